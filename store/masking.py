"""The one masking of a payload before a person sees it: values whose key or shape looks secret
become "••••••". Pure; the stored payload (what a retrigger sends the engine) is never changed.

- By key, at any depth in objects and lists: a key whose words (split at `_ - .`, spaces and
  camelCase) name a secret — token, secret, password, api key, authorization, cookie, session,
  credential, signature… — has its whole value masked, objects and lists included. Only null,
  true/false and "" stay: they say whether one is set, never what it is.
- By shape, under any key and inside longer text: `Bearer …` and `Basic …` credentials, JWTs,
  PEM private keys, well-known token formats (Slack, AWS, GitHub, `sk-…`, Stripe, Google),
  credentials in URLs (`https://user:pass@host`, `?token=…`), and long random-looking strings
  (24 characters or more, no spaces, letters and digits changing often).
- Left alone, as IDs rather than secrets: UUIDs, ULIDs and prefixed IDs such as run IDs
  (`run_01J…`), dates and times, emails, and URLs without credentials.

Nothing of a secret is kept (no last four characters): a masked value only says it was there.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, NamedTuple

MASK = "••••••"


class MaskedPayload(NamedTuple):
    """The payload as people may see it, and how many values were masked in it."""

    payload: Any
    masked: int


def mask_payload(payload: Any) -> MaskedPayload:
    """`payload` (any JSON value) with every secret-looking value masked; the input is not
    changed. Masking an already masked payload changes nothing more."""
    counter = [0]
    return MaskedPayload(_mask(payload, counter), counter[0])


def is_secret_key(key: str) -> bool:
    """Whether a payload key names a secret (`api_key`, `X-Auth-Token`, `clientSecret`…)."""
    words = [word.lower() for word in _WORD.findall(key)]
    compact = "".join(words)
    return any(part in compact for part in _SECRET_PARTS) or any(
        word in _SECRET_WORDS for word in words
    )


def mask_text(text: str) -> str:
    """`text` with every secret-looking part masked (the rest, URLs' hosts and paths
    included, as it was)."""
    return _mask_string(text)


# --- keys --------------------------------------------------------------------------------------

# Words of a key: camelCase humps, acronyms and digit runs; separators are anything else.
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# Found anywhere in the key's words joined (`db_password`, `refreshToken`, `x-api-key`).
_SECRET_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "apikey",
    "accesskey",
    "privatekey",
    "secretkey",
    "signingkey",
    "credential",
    "authorization",
    "signature",
    "cookie",
    "sessid",
)
# Whole words only: `auth_header` and `sessionId` are secrets, `author` and `possession` not.
_SECRET_WORDS = frozenset(
    {"auth", "oauth", "session", "pass", "pwd", "pin", "otp", "sig", "jwt", "bearer", "cvv", "cvc"}
)
# A URL's query parameters that carry keys without saying so (`?key=AIza…`, `?sig=…`).
_SECRET_QUERY_NAMES = frozenset({"key", "sig", "code"})


def _mask(value: Any, counter: list[int]) -> Any:
    if isinstance(value, dict):
        return {key: _mask_entry(str(key), item, counter) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item, counter) for item in value]
    if isinstance(value, str):
        masked = _mask_string(value)
        if masked != value:
            counter[0] += 1
        return masked
    return value


def _mask_entry(key: str, value: Any, counter: list[int]) -> Any:
    if not is_secret_key(key):
        return _mask(value, counter)
    if value is None or isinstance(value, bool) or value in ("", MASK):
        return value
    counter[0] += 1
    return MASK


# --- shapes ------------------------------------------------------------------------------------

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")
_URL_PARTS = re.compile(r"^(?P<scheme>[^:]+://)(?:(?P<userinfo>[^/?#@]*)@)?(?P<rest>.*)$", re.S)
_QUERY_PARAMETER = re.compile(r"(?P<lead>[?&;#])(?P<name>[^=&;#]+)=(?P<value>[^&;#]*)")

_PEM = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
)
_BASIC = re.compile(r"\b(?P<scheme>Basic)\s+(?P<credential>[A-Za-z0-9+/]{6,}={0,2})(?![\w+/=])")
# A bearer credential has a digit or punctuation in it: "Bearer of bad news" stays.
_BEARER = re.compile(
    r"\b(?P<scheme>Bearer)\s+(?P<credential>(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{8,}=*)",
    re.I,
)
_KNOWN_TOKENS = re.compile(
    "|".join(
        (
            r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*",  # JWT
            r"\bxox[abposre]-[A-Za-z0-9\-]{8,}",  # Slack
            r"\bxapp-[A-Za-z0-9\-]{8,}",
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b",  # AWS key IDs
            r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}",  # GitHub
            r"\bgithub_pat_[A-Za-z0-9_]{20,}",
            r"\bglpat-[A-Za-z0-9_\-]{16,}",  # GitLab
            r"\bsk-[A-Za-z0-9_\-]{16,}",  # OpenAI and the like
            r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}",  # Stripe secret and restricted keys
            r"\bwhsec_[A-Za-z0-9]{16,}",
            r"\bAIza[0-9A-Za-z_\-]{30,}",  # Google API keys
            r"\bshp(?:at|ss|ca|pa)_[A-Fa-f0-9]{16,}",  # Shopify
            r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",  # SendGrid
            r"\bnpm_[A-Za-z0-9]{30,}",
            r"\bhf_[A-Za-z0-9]{30,}",
        )
    )
)
# Candidate random strings: long runs of the characters keys and tokens are made of.
_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_\-.~]{24,}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}")
# An ID is a short lowercase prefix and a ULID (`run_01JD…`, as store/ids.py makes them) or a
# bare ULID: sortable by time, shown everywhere, no secret.
_PREFIXED_ID = re.compile(r"(?:[a-z]{1,12}[_\-])?[0-9A-HJKMNP-TV-Z]{26}")
_RANDOM_LENGTH = 24
# Random keys change character class (lower, upper, digit) at about half their neighbours;
# words and numbers written together ("ACMECorpRenewal2027Q3") at a quarter or less.
_RANDOM_CHANGES = 0.3


def _mask_string(text: str) -> str:
    text = _PEM.sub(MASK, text)
    pieces: list[str] = []
    last = 0
    for url in _URL.finditer(text):
        pieces.append(_mask_plain(text[last : url.start()]))
        pieces.append(_mask_url(url.group()))
        last = url.end()
    pieces.append(_mask_plain(text[last:]))
    return "".join(pieces)


def _mask_plain(text: str) -> str:
    text = _BEARER.sub(lambda m: f"{m.group('scheme')} {MASK}", text)
    text = _BASIC.sub(_basic, text)
    text = _KNOWN_TOKENS.sub(MASK, text)
    return _CANDIDATE.sub(lambda m: MASK if is_random_looking(m.group()) else m.group(), text)


def _basic(match: re.Match[str]) -> str:
    # `Basic` is also an ordinary word ("Basic plan"): only base64 of `user:password` is masked.
    credential = match.group("credential")
    try:
        decoded = base64.b64decode(credential + "=" * (-len(credential) % 4), validate=True)
    except (binascii.Error, ValueError):
        return match.group()
    return f"{match.group('scheme')} {MASK}" if b":" in decoded else match.group()


def _mask_url(url: str) -> str:
    parts = _URL_PARTS.match(url)
    if parts is None:
        return url
    userinfo = parts.group("userinfo")
    shown_userinfo = ""
    if userinfo is not None:
        user, colon, _password = userinfo.partition(":")
        if colon:
            shown_userinfo = f"{user}:{MASK}@"
        elif is_random_looking(user) or _KNOWN_TOKENS.fullmatch(user):
            shown_userinfo = f"{MASK}@"
        else:
            shown_userinfo = f"{user}@"
    rest = _QUERY_PARAMETER.sub(_query_parameter, parts.group("rest"))
    rest = _KNOWN_TOKENS.sub(MASK, rest)
    return f"{parts.group('scheme')}{shown_userinfo}{rest}"


def _query_parameter(match: re.Match[str]) -> str:
    name, value = match.group("name"), match.group("value")
    secret = is_secret_key(name) or name.lower() in _SECRET_QUERY_NAMES
    if not value or not secret or value == MASK:
        shown = _KNOWN_TOKENS.sub(MASK, value)
        if is_random_looking(shown):
            shown = MASK
    else:
        shown = MASK
    return f"{match.group('lead')}{name}={shown}"


def is_random_looking(text: str) -> bool:
    """Whether `text` looks like a generated key: 24 characters or more of key characters,
    letters and digits, changing character class often; UUIDs and prefixed ULIDs are IDs."""
    if len(text) < _RANDOM_LENGTH or _CANDIDATE.fullmatch(text) is None:
        return False
    if _UUID.fullmatch(text) or _PREFIXED_ID.fullmatch(text):
        return False
    if not (any(char.isdigit() for char in text) and any(char.isalpha() for char in text)):
        return False
    classes = [_class(char) for char in text if char.isalnum()]
    changes = sum(1 for a, b in zip(classes, classes[1:], strict=False) if a != b)
    return changes >= _RANDOM_CHANGES * (len(classes) - 1)


def _class(char: str) -> int:
    return 0 if char.isdigit() else 1 if char.islower() else 2
