"""Names, numbers and record IDs in many languages, drawn from one seeded generator.

Customers come with Zipf-like frequency (a few big ones, a long tail), people have accents,
Japanese names and email addresses, and now and then a payload carries a credential.
"""

from __future__ import annotations

import bisect
import itertools
import random
from base64 import b64encode
from collections.abc import Sequence
from typing import Any, Final

# The most frequent customers first: references name them with Zipf-like frequency.
HEAD_COMPANIES: Final = (
    "ACME Corp",
    "Müller GmbH",
    "Société Générale",
    "株式会社トヨタ",
    "Zoë's Café",
    "Ørsted A/S",
    "Globex Inc.",
    "Nestlé Suisse",
    "Initech",
    "Škoda Auto",
    "Électricité de France",
    "Björk & Söner AB",
    "Umbrella Health",
    "Zürich Versicherung",
    "Straße & Partner GmbH",
    "Señor Taco S.L.",
    "Hooli",
    "Crème de la Crème SARL",
    "São Paulo Alpargatas",
    "Łódź Textiles Sp. z o.o.",
    "Stark Industries",
    "Dvořák Music s.r.o.",
    "ソニー販売株式会社",
    "İstanbul Lojistik A.Ş.",
    "Wayne Enterprises",
    "Øresund Logistics",
    "Αθηνά Εκδόσεις",
    "Ålands Bank",
    "北京科技有限公司",
    "Pied Piper",
    "Москва Трейд ООО",
    "Niño Juguetes S.A.",
    "Tyrell Corp",
    "삼성 파트너스",
    "Massive Dynamic",
    "Wonka Industries",
    "Vandelay Industries",
    "Aperture Science",
    "Bluth Company",
    "Dunder Mifflin",
)
_SURNAMES: Final = (
    "Schröder", "Dubois", "Nguyễn", "García", "Kowalski", "Søndergaard", "Öztürk",
    "Papadopoulos", "Janković", "Haraldsson", "Fernández", "Lefèvre", "Bäcker", "Rossi",
    "Yılmaz", "Novák", "Virtanen", "Jansen", "O'Brien", "Almeida", "Lindqvist", "Kuznetsov",
    "Horváth", "Costa", "Weiß", "Moreau", "Brennan", "Takahashi", "Okafor", "Dąbrowski",
    "Ångström", "Þórsson", "Çelik", "Ferreira", "Van der Berg", "De Luca",
)  # fmt: skip
_COMPANY_SUFFIXES: Final = (
    "GmbH", "SARL", "S.A.", "Ltd", "AB", "A/S", "& Co. KG", "Sp. z o.o.", "B.V.", "Oy",
    "Inc.", "LLC", "S.r.l.", "AG", "Holdings", "Consulting",
)  # fmt: skip
# The long tail: every surname with every suffix, interleaved so that neighbours differ.
TAIL_COMPANIES: Final = tuple(
    f"{_SURNAMES[i % len(_SURNAMES)]} {_COMPANY_SUFFIXES[(i // len(_SURNAMES) + i) % 16]}"
    for i in range(len(_SURNAMES) * len(_COMPANY_SUFFIXES))
)
COMPANIES: Final = HEAD_COMPANIES + TAIL_COMPANIES
_COMPANY_CUMULATIVE: Final = tuple(
    itertools.accumulate(1.0 / (rank + 2) for rank in range(len(COMPANIES)))
)

# (as shown, as in an email address)
_FIRST_NAMES: Final = (
    ("Zoë", "zoe"), ("José", "jose"), ("Søren", "soren"), ("Łukasz", "lukasz"),
    ("Anaïs", "anais"), ("François", "francois"), ("Jürgen", "juergen"), ("Ólafur", "olafur"),
    ("Ayşe", "ayse"), ("Björn", "bjorn"), ("Chloé", "chloe"), ("Renée", "renee"),
    ("Mikołaj", "mikolaj"), ("Núria", "nuria"), ("Maria", "maria"), ("John", "john"),
    ("Priya", "priya"), ("Wei", "wei"), ("Hiroshi", "hiroshi"), ("Fatima", "fatima"),
    ("Liam", "liam"), ("Emma", "emma"), ("Noah", "noah"), ("Olivia", "olivia"),
    ("Dmitri", "dmitri"), ("Ingrid", "ingrid"), ("Mateo", "mateo"), ("Siobhán", "siobhan"),
)  # fmt: skip
_LAST_NAMES: Final = (
    ("Müller", "mueller"), ("García", "garcia"), ("Kierkegaard", "kierkegaard"),
    ("Kowalski", "kowalski"), ("Dubois", "dubois"), ("Øvergaard", "overgaard"),
    ("Nguyễn", "nguyen"), ("Smith", "smith"), ("Tanaka", "tanaka"), ("Rossi", "rossi"),
    ("Johansson", "johansson"), ("Çelik", "celik"), ("O'Neill", "oneill"), ("Schmidt", "schmidt"),
    ("Fernández", "fernandez"), ("Lefèvre", "lefevre"), ("Novák", "novak"), ("Brown", "brown"),
    ("Wójcik", "wojcik"), ("Haraldsdóttir", "haraldsdottir"), ("Patel", "patel"), ("Chen", "chen"),
)  # fmt: skip
_JAPANESE_NAMES: Final = (
    ("田中 花子", "hanako.tanaka"),
    ("佐藤 健", "ken.sato"),
    ("鈴木 一郎", "ichiro.suzuki"),
)
_MAIL_DOMAINS: Final = (
    "gmail.com", "outlook.com", "acme.example", "mueller-gmbh.de", "socgen.fr", "orsted.dk",
    "zoes-cafe.co.uk", "toyota.co.jp", "globex.com", "initech.io", "web.de", "icloud.com",
)  # fmt: skip
_NOT_ALNUM: Final = str.maketrans("+/", "xQ")
_SECRET_KEYS: Final = ("api_key", "password", "access_token", "client_secret", "hapikey")


class Names:
    """Random names, numbers and IDs from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = itertools.count(48_213)

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.rng.random() * len(options))]

    def company(self) -> str:
        point = self.rng.random() * _COMPANY_CUMULATIVE[-1]
        return COMPANIES[min(bisect.bisect(_COMPANY_CUMULATIVE, point), len(COMPANIES) - 1)]

    def person(self) -> tuple[str, str]:
        """A name as shown, and an email address for it."""
        rng = self.rng
        if rng.random() < 0.06:
            shown, local = _JAPANESE_NAMES[int(rng.random() * len(_JAPANESE_NAMES))]
        else:
            first = _FIRST_NAMES[int(rng.random() * len(_FIRST_NAMES))]
            last = _LAST_NAMES[int(rng.random() * len(_LAST_NAMES))]
            shown, local = f"{first[0]} {last[0]}", f"{first[1]}.{last[1]}"
        return shown, f"{local}@{self.pick(_MAIL_DOMAINS)}"

    def number(self, low: int, high: int) -> int:
        return low + int(self.rng.random() * (high - low))

    def serial(self) -> int:
        """Order and ticket numbers grow with time, as the source system counts them."""
        return next(self.counter)

    def text_id(self, length: int) -> str:
        """Letters and digits, as record IDs have them."""
        return b64encode(self.rng.randbytes(length)).decode()[:length].translate(_NOT_ALNUM)

    def amount(self) -> int:
        # Deal sizes are log-uniform between 1k and 500k.
        return int(1000 * 500 ** self.rng.random()) // 10 * 10

    def secret(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Now and then an engine forwards a credential in the payload: masked in Slack."""
        if self.rng.random() < 0.08:
            key = self.pick(_SECRET_KEYS)
            payload[key] = ("sk_live_" if key == "api_key" else "") + self.text_id(24)
        return payload
