"""Realistic demo data for the run store: `runsbot demo-data` and the benchmarks.

Ten workflows of an integration platform with uneven traffic, runs spread over
the last `days` (denser on weekdays and in working hours), mostly finished,
some skipped, failures of the four common causes (an expired credential, a
missing required field, a downstream outage, a logic error) with the step that
failed, outages and expired tokens in bursts as they happen, retriggers of
failed runs, references in many languages and scripts, and a few runs still in
flight in the last hour. Everything comes from `random.Random(seed)`: the same
arguments make the same runs.

Rows are made as plain dicts and inserted in chunks with `RunStore.load_rows`,
so a million runs take a minute or two rather than an hour of reports.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from base64 import b64encode
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from ulid import ULID

from store.causes import FailureCause
from store.run_store import RunStore
from store.types import RunStatus

CHUNK_ROWS: Final = 20_000
MAX_REFERENCE: Final = 255

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_MS: Final = 3_600_000

# Without an incident, this share of runs fails, by cause (the rest finish or are skipped).
BASE_FAILURE_RATE: Final = 0.058
SKIP_RATE: Final = 0.07
# Share of failed runs that someone retriggers from Slack, and how long after.
RETRIGGER_RATE: Final = 0.15
# How often the engine runs the same record again (a deal updated twice, a re-sent order).
REUSE_RATE: Final = 0.08


class StepKind(StrEnum):
    READ = "read"  # calls the source system
    CHECK = "check"  # a workflow condition: where skipped runs stop
    MAP = "map"  # transforms the record
    WRITE = "write"  # calls the destination system


CREDENTIAL_ERRORS: Final = (
    "401 Unauthorized: token expired",
    "invalid_grant: refresh token revoked",
    "403 Forbidden: the app's access was revoked by an administrator",
)
OUTAGE_ERRORS: Final = (
    "504 Gateway Timeout",
    "503 Service Unavailable",
    "429 Too Many Requests: rate limit exceeded",
    "Read timed out after 30s",
    "502 Bad Gateway",
)
# How long a step takes before it fails with this outage error, in seconds.
_OUTAGE_WAIT: Final = {
    "504 Gateway Timeout": (60.0, 60.5),
    "Read timed out after 30s": (30.0, 30.2),
    "503 Service Unavailable": (0.2, 1.5),
    "429 Too Many Requests: rate limit exceeded": (0.1, 0.6),
    "502 Bad Gateway": (0.5, 8.0),
}
# Base failures without an incident, by cause.
_CAUSE_MIX: Final = (
    (FailureCause.MISSING_FIELD, 0.48),
    (FailureCause.LOGIC, 0.2),
    (FailureCause.OUTAGE, 0.2),
    (FailureCause.CREDENTIAL, 0.12),
)

# Hour-of-day traffic in UTC (Europe's working day, then the Americas'), weekends lighter.
_HOUR_SHAPE: Final = (
    0.18, 0.15, 0.14, 0.14, 0.16, 0.22, 0.35, 0.6, 0.95, 1.0, 1.0, 1.0,
    0.9, 1.15, 1.25, 1.25, 1.2, 1.0, 0.8, 0.65, 0.5, 0.4, 0.3, 0.22,
)  # fmt: skip
_WEEKEND: Final = 0.28


# --- Names, in many languages ----------------------------------------------------------------

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

_DEAL_KINDS: Final = (
    " — Renewal 2027", " — Renewal 2026", " Q4", " Q3", " — New business", " — Expansion",
    " — Upsell, 50 seats", " — Pilot", " — Enterprise plan", " — Multi-year 2026–2028",
    " 見積", " — Rahmenvertrag", " — Renouvellement", " — Services",
)  # fmt: skip
_TICKET_TITLES: Final = (
    "Export to CSV fails for large accounts",
    "Login broken after SSO change 🔥",
    "Paiement refusé — carte expirée",
    "注文のキャンセルができない",
    "Rechnung doppelt versendet",
    "App crashes on iOS 18 📱",
    "Données manquantes dans le rapport",
    "Webhook deliveries delayed ⏱️",
    "No se puede restablecer la contraseña",
    "Sync stuck at 99 %",
    "Wrong VAT rate on Swiss invoices",
    "Dashboard shows £ instead of €",
    "Aktualisierung der Lieferadresse schlägt fehl",
    "Bulk import drops rows with umlauts (ä, ö, ü)",
    "Zugangsdaten abgelaufen",
    "Feature request: dark mode 🌙",
)
_QUESTIONS: Final = (
    "Où est ma commande ?",
    "Wo ist meine Rechnung?",
    "Refund request for order #48213",
    "¿Puedo cambiar mi plan?",
    "Password reset email not arriving",
    "配送状況を教えてください",
    "Can I add more seats mid-year?",
    "Факт оплаты не отображается",
    "Problème de connexion depuis hier",
    "Invoice address needs updating",
)
_SHEET_ROWS: Final = (
    "Content calendar: Q3 launch 🚀",
    "Event: Hannover Messe",
    "Lead list — DACH region",
    "Budget 2027 — Ärzte Team",
    "Partner onboarding checklist",
    "Webinar signups — Nordics",
    "Customer feedback — Ålesund",
    "Hiring plan — São Paulo office",
)
_ROLES: Final = (
    "Backend Engineer", "Account Executive", "Customer Success Manager", "Data Analyst",
    "Product Designer", "Head of Finance", "Ingénieure DevOps", "Werkstudent Marketing",
    "Support Specialist (日本語)", "Office Manager",
)  # fmt: skip
_CURRENCIES: Final = ("EUR", "EUR", "USD", "USD", "USD", "GBP", "CHF", "DKK", "SEK", "JPY", "PLN")
_NOT_ALNUM: Final = str.maketrans("+/", "xQ")
_SECRET_KEYS: Final = ("api_key", "password", "access_token", "client_secret", "hapikey")


# --- Workflows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """What one record makes of a run: its reference, payload, per-step details and result."""

    reference: str
    payload: dict[str, Any]
    details: tuple[str, ...]
    created: str  # the result the first time the record is moved
    updated: str  # the result when the same record comes again


@dataclass(frozen=True)
class DemoWorkflow:
    id: str
    source: str
    destination: str
    name: str
    weight: float
    steps: tuple[tuple[str, StepKind], ...]
    skip_reasons: tuple[str, ...]
    missing_fields: tuple[str, ...]
    logic_errors: tuple[str, ...]
    make: Callable[[_Names], Trigger]
    # Seconds a write step takes, low and high (NetSuite is slow).
    write_seconds: tuple[float, float] = (0.3, 2.5)

    def row(self, created_at: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "destination": self.destination,
            "name": self.name,
            "trigger_url": None,
            "alert_channel": None,
            "created_at": created_at,
            "updated_at": created_at,
        }


class _Names:
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


def _hubspot_salesforce(n: _Names) -> Trigger:
    company = n.company()
    reference = company + n.pick(_DEAL_KINDS)
    deal_id, amount = n.number(9_000_000, 19_999_999), n.amount()
    _, email = n.person()
    opportunity = "0068c00001" + n.text_id(8)
    payload = n.secret(
        {
            "deal_id": deal_id,
            "deal_name": reference,
            "amount": amount,
            "currency": n.pick(_CURRENCIES),
            "stage": "closedwon",
            "owner_email": email,
        }
    )
    return Trigger(
        reference,
        payload,
        (
            f"Fetched deal {deal_id} from HubSpot",
            "Deal stage is Closed Won",
            f"Mapped {n.number(9, 24)} fields",
            f"Upserted account '{company}'",
            f"POST /services/data/v61.0/sobjects/Opportunity ({amount})",
        ),
        f"Created opportunity {opportunity}",
        f"Updated opportunity {opportunity}",
    )


def _shopify_netsuite(n: _Names) -> Trigger:
    order = n.serial()
    customer = n.company() if n.rng.random() < 0.4 else n.person()[0]
    _, email = n.person()
    items = n.number(1, 9)
    total = f"{n.number(15, 4000)}.{n.number(0, 99):02d}"
    payload = n.secret(
        {
            "order_id": n.number(5_100_000_000_000, 5_999_999_999_999),
            "order_number": order,
            "total_price": total,
            "currency": n.pick(_CURRENCIES),
            "email": email,
            "line_items": items,
        }
    )
    sales_order = f"SO{n.number(100_000, 999_999)}"
    return Trigger(
        f"Order #{order} — {customer}",
        payload,
        (
            f"Fetched order #{order} with {items} line items",
            "Order is paid and not a test order",
            f"Mapped {items} line items to item records",
            f"Found customer record for {email}",
            f"POST /record/v1/salesOrder ({total})",
        ),
        f"Created sales order {sales_order}",
        f"Updated sales order {sales_order}",
    )


def _stripe_quickbooks(n: _Names) -> Trigger:
    company = n.company()
    invoice = "in_1Q" + n.text_id(22)
    if n.rng.random() < 0.5:
        reference = f"Invoice INV-2026-{n.number(1, 9999):04d} — {company}"
    else:
        reference = invoice
    cents = n.amount() * 10
    payload = n.secret(
        {
            "invoice_id": invoice,
            "customer": "cus_" + n.text_id(14),
            "amount_due": cents,
            "currency": n.pick(_CURRENCIES).lower(),
        }
    )
    qb = n.number(1000, 99999)
    return Trigger(
        reference,
        payload,
        (
            f"Fetched invoice {invoice}",
            "Invoice is finalized and amount is above 0",
            f"Mapped customer '{company}' and {n.number(1, 6)} lines",
            f"POST /v3/company/realm/invoice ({cents / 100:.2f})",
        ),
        f"Created invoice {qb} in QuickBooks",
        f"Updated invoice {qb} in QuickBooks",
    )


def _zendesk_jira(n: _Names) -> Trigger:
    ticket = n.serial()
    title = n.pick(_TICKET_TITLES)
    shown, email = n.person()
    payload = n.secret(
        {
            "ticket_id": ticket,
            "subject": title,
            "priority": n.pick(("low", "normal", "normal", "high", "urgent")),
            "requester": email,
        }
    )
    issue = f"SUP-{n.number(1000, 9999)}"
    return Trigger(
        f"#{ticket} {title}",
        payload,
        (
            f"Fetched ticket #{ticket} from {shown}",
            "Ticket is tagged 'escalate'",
            f"POST /rest/api/3/issue ({payload['priority']})",
        ),
        f"Created issue {issue}",
        f"Commented on issue {issue}",
    )


def _typeform_hubspot(n: _Names) -> Trigger:
    shown, email = n.person()
    kind = n.pick(("Demo request", "Newsletter signup", "Contact form", "Webinar registration"))
    company = n.company()
    reference = f"{kind} — {shown}" + (f" ({company})" if kind == "Demo request" else "")
    payload = n.secret(
        {
            "form_id": "Xk3Pq9",
            "response_id": n.text_id(20).lower(),
            "email": email,
            "company": company,
        }
    )
    contact = n.number(100_000, 999_999)
    return Trigger(
        reference,
        payload,
        (
            "Read form response",
            "Response is not a duplicate",
            f"Mapped {n.number(4, 12)} answers to contact properties",
            f"POST /crm/v3/objects/contacts ({email})",
        ),
        f"Created contact {contact}",
        f"Updated contact {contact}",
    )


def _salesforce_slack(n: _Names) -> Trigger:
    company = n.company()
    amount = n.amount()
    emoji = " 🎉" if n.rng.random() < 0.3 else ""
    reference = f"Closed Won: {company}{n.pick(_DEAL_KINDS)}{emoji}"
    payload = {
        "opportunity_id": "0068c00001" + n.text_id(8),
        "amount": amount,
        "channel": "#sales-wins",
    }
    return Trigger(
        reference,
        payload,
        (
            f"Fetched opportunity {payload['opportunity_id']}",
            "Amount is above 10,000",
            "chat.postMessage to #sales-wins",
        ),
        "Posted to #sales-wins",
        "Updated the message in #sales-wins",
    )


def _pipedrive_mailchimp(n: _Names) -> Trigger:
    shown, email = n.person()
    payload = n.secret(
        {"person_id": n.number(1000, 99999), "email": email, "list_id": "a1b2c3d4e5"}
    )
    return Trigger(
        f"{shown} <{email}>",
        payload,
        (
            f"Fetched person {payload['person_id']}",
            "Person has marketing consent",
            f"PUT /3.0/lists/a1b2c3d4e5/members ({email})",
        ),
        f"Added {email} to audience 'Newsletter'",
        f"Updated {email} in audience 'Newsletter'",
    )


def _airtable_sheets(n: _Names) -> Trigger:
    record = "rec" + n.text_id(14)
    title = n.pick(_SHEET_ROWS)
    payload = n.secret({"base_id": "appQ3x8Lm2Vd", "record_id": record, "sheet": "Leads 2026"})
    row = n.number(2, 5000)
    return Trigger(
        f"{record} — {title}",
        payload,
        ("Record matches the view 'Ready to sync'", f"Appended values to 'Leads 2026'!A{row}"),
        f"Appended row {row} to 'Leads 2026'",
        f"Updated row {row} in 'Leads 2026'",
    )


def _intercom_zendesk(n: _Names) -> Trigger:
    conversation = n.number(10**14, 10**15 - 1)
    question = n.pick(_QUESTIONS)
    _, email = n.person()
    payload = n.secret(
        {
            "conversation_id": conversation,
            "email": email,
            "language": n.pick(("en", "fr", "de", "es", "ja", "ru")),
        }
    )
    ticket = n.serial()
    return Trigger(
        f"Conversation {conversation} — {question}",
        payload,
        (
            f"Fetched conversation {conversation}",
            "Conversation was escalated by an agent",
            f"POST /api/v2/tickets ({email})",
        ),
        f"Created ticket #{ticket}",
        f"Added a comment to ticket #{ticket}",
    )


def _greenhouse_bamboohr(n: _Names) -> Trigger:
    shown, email = n.person()
    role = n.pick(_ROLES)
    payload = n.secret(
        {
            "candidate_id": n.number(10_000_000, 99_999_999),
            "job": role,
            "start_date": f"2027-0{n.number(1, 9)}-01",
            "email": email,
        }
    )
    employee = n.number(100, 9999)
    return Trigger(
        f"Offer accepted: {shown} — {role}",
        payload,
        (
            f"Fetched candidate {payload['candidate_id']}",
            "Offer status is accepted",
            "Mapped job, department and start date",
            "POST /v1/employees",
        ),
        f"Created employee {employee} in BambooHR",
        f"Updated employee {employee} in BambooHR",
    )


_R, _C, _M, _W = StepKind.READ, StepKind.CHECK, StepKind.MAP, StepKind.WRITE

WORKFLOWS: Final = (
    DemoWorkflow(
        "hubspot-salesforce",
        "HubSpot",
        "Salesforce",
        "Deals → Opportunities",
        28,
        (
            ("Fetch deal", _R),
            ("Check deal stage", _C),
            ("Map fields", _M),
            ("Upsert account", _W),
            ("Create opportunity", _W),
        ),
        ("Deal stage is not Closed Won", "Deal amount is 0", "Deal is owned by a test user"),
        (
            "INVALID_FIELD: Amount is required",
            "REQUIRED_FIELD_MISSING: Required fields are missing: [CloseDate]",
            "Required field 'Email' is missing",
        ),
        (
            "Cannot map stage 'Negotiation' to an opportunity stage",
            "KeyError: 'associations'",
        ),
        _hubspot_salesforce,
    ),
    DemoWorkflow(
        "shopify-netsuite",
        "Shopify",
        "NetSuite",
        "Orders → Sales orders",
        24,
        (
            ("Fetch order", _R),
            ("Check order", _C),
            ("Map line items", _M),
            ("Find customer", _W),
            ("Create sales order", _W),
        ),
        ("Order is a test order", "Order is not paid yet", "Order was cancelled before sync"),
        (
            "Required field 'Email' is missing",
            "Invalid Field Value: subsidiary is required",
            "Item 'SKU-4471-BLK': required field 'Income Account' is missing",
        ),
        ("KeyError: 'line_items'", "ValueError: invalid currency code 'XXX'"),
        _shopify_netsuite,
        (2.0, 25.0),
    ),
    DemoWorkflow(
        "stripe-quickbooks",
        "Stripe",
        "QuickBooks",
        "Invoices → Invoices",
        11,
        (
            ("Fetch invoice", _R),
            ("Check invoice", _C),
            ("Map customer and lines", _M),
            ("Create invoice", _W),
        ),
        ("Invoice amount is 0", "Invoice is a draft"),
        (
            "Required field 'CustomerRef' is missing",
            "Business Validation Error: TxnDate is required",
        ),
        (
            "TypeError: unsupported operand type(s) for +: 'NoneType' and 'float'",
            "Tax code 'VAT 19%' has no QuickBooks equivalent",
        ),
        _stripe_quickbooks,
    ),
    DemoWorkflow(
        "zendesk-jira",
        "Zendesk",
        "Jira",
        "Escalated tickets → Issues",
        9,
        (("Fetch ticket", _R), ("Check tags", _C), ("Create issue", _W)),
        ("Ticket is not tagged 'escalate'", "Ticket already has a linked issue"),
        ("Field 'components' is required", "Required field 'Summary' is missing"),
        ("Cannot map priority 'urgent' to a Jira priority", "KeyError: 'custom_fields'"),
        _zendesk_jira,
    ),
    DemoWorkflow(
        "typeform-hubspot",
        "Typeform",
        "HubSpot",
        "Form responses → Contacts",
        8,
        (
            ("Read response", _R),
            ("Check duplicates", _C),
            ("Map answers", _M),
            ("Upsert contact", _W),
        ),
        ("Response is a duplicate", "Email domain is on the block list"),
        ("Required field 'Email' is missing", "Property 'lifecyclestage' is required"),
        ("KeyError: 'answers'", "Cannot map choice 'Autre' to a lead source"),
        _typeform_hubspot,
    ),
    DemoWorkflow(
        "salesforce-slack",
        "Salesforce",
        "Slack",
        "Closed-won deals → #sales-wins",
        5,
        (("Fetch opportunity", _R), ("Check amount", _C), ("Post message", _W)),
        ("Amount is below 10,000", "Opportunity is not Closed Won"),
        ("Required field 'Amount' is missing",),
        ("invalid_blocks: text is longer than 3000 characters",),
        _salesforce_slack,
    ),
    DemoWorkflow(
        "pipedrive-mailchimp",
        "Pipedrive",
        "Mailchimp",
        "Persons → Audience members",
        5,
        (("Fetch person", _R), ("Check consent", _C), ("Upsert member", _W)),
        ("Person has no marketing consent", "Person has no email address"),
        ("Required field 'Email' is missing", "Invalid Resource: merge field FNAME is required"),
        ("KeyError: 'email'",),
        _pipedrive_mailchimp,
    ),
    DemoWorkflow(
        "airtable-google-sheets",
        "Airtable",
        "Google Sheets",
        "Records → Rows",
        4,
        (("Check view", _C), ("Append row", _W)),
        ("Record is not in the view 'Ready to sync'",),
        ("Required field 'Status' is missing",),
        ("Range 'Leads 2026'!A:Z exceeds grid limits",),
        _airtable_sheets,
    ),
    DemoWorkflow(
        "intercom-zendesk",
        "Intercom",
        "Zendesk",
        "Conversations → Tickets",
        4,
        (("Fetch conversation", _R), ("Check escalation", _C), ("Create ticket", _W)),
        ("Conversation was not escalated", "Conversation is spam"),
        ("Required field 'Email' is missing", "RecordInvalid: Requester email cannot be blank"),
        ("KeyError: 'conversation_parts'",),
        _intercom_zendesk,
    ),
    DemoWorkflow(
        "greenhouse-bamboohr",
        "Greenhouse",
        "BambooHR",
        "Hires → Employees",
        2,
        (
            ("Fetch candidate", _R),
            ("Check offer", _C),
            ("Map job data", _M),
            ("Create employee", _W),
        ),
        ("Offer is not accepted yet", "Hire is a contractor"),
        ("Required field 'hireDate' is missing", "Required field 'Email' is missing"),
        ("Cannot map department 'Ventes' to a BambooHR division",),
        _greenhouse_bamboohr,
    ),
)
_WORKFLOW_CUMULATIVE: Final = tuple(itertools.accumulate(w.weight for w in WORKFLOWS))


def _failure_messages() -> dict[FailureCause, frozenset[str]]:
    return {
        FailureCause.CREDENTIAL: frozenset(CREDENTIAL_ERRORS),
        FailureCause.OUTAGE: frozenset(OUTAGE_ERRORS),
        FailureCause.MISSING_FIELD: frozenset(m for w in WORKFLOWS for m in w.missing_fields),
        FailureCause.LOGIC: frozenset(m for w in WORKFLOWS for m in w.logic_errors),
    }


# Every error message the demo data uses, by cause.
FAILURE_MESSAGES: Final = _failure_messages()


# --- Incidents: failures come in bursts ------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    cause: FailureCause
    message: str
    step: int  # index into the workflow's steps


@dataclass
class _Incident:
    start_ms: int
    end_ms: int
    failure: _Failure
    rate: float  # share of the workflow's runs that fail meanwhile


def _step_of(workflow: DemoWorkflow, kinds: Sequence[StepKind], rng: random.Random) -> int:
    matching = [i for i, (_, kind) in enumerate(workflow.steps) if kind in kinds]
    if not matching:
        return len(workflow.steps) - 1
    return matching[int(rng.random() * len(matching))]


def _random_failure(workflow: DemoWorkflow, cause: FailureCause, rng: random.Random) -> _Failure:
    if cause is FailureCause.CREDENTIAL:
        message = CREDENTIAL_ERRORS[int(rng.random() * len(CREDENTIAL_ERRORS))]
        step = _step_of(workflow, (StepKind.READ, StepKind.WRITE), rng)
    elif cause is FailureCause.OUTAGE:
        message = OUTAGE_ERRORS[int(rng.random() * len(OUTAGE_ERRORS))]
        step = _step_of(
            workflow, (StepKind.WRITE,) if rng.random() < 0.75 else (StepKind.READ,), rng
        )
    elif cause is FailureCause.MISSING_FIELD:
        message = workflow.missing_fields[int(rng.random() * len(workflow.missing_fields))]
        step = _step_of(workflow, (StepKind.MAP, StepKind.WRITE), rng)
    else:
        message = workflow.logic_errors[int(rng.random() * len(workflow.logic_errors))]
        step = _step_of(workflow, (StepKind.MAP,), rng)
    return _Failure(cause, message, step)


def _incidents(
    workflow: DemoWorkflow, start_ms: int, end_ms: int, rng: random.Random
) -> list[_Incident]:
    """Expired tokens (every run fails until someone reconnects) and downstream outages."""
    days = (end_ms - start_ms) / (24 * _HOUR_MS)
    incidents: list[_Incident] = []
    for cause, per_day, hours, rate in (
        (FailureCause.CREDENTIAL, 1 / 12, (0.5, 6.0), 1.0),
        (FailureCause.OUTAGE, 1 / 5, (0.2, 1.5), 0.7),
    ):
        count = int(days * per_day * (0.5 + rng.random()) + rng.random())
        for _ in range(count):
            begin = start_ms + int(rng.random() * (end_ms - start_ms))
            length = int(rng.uniform(*hours) * _HOUR_MS)
            failure = _random_failure(workflow, cause, rng)
            incidents.append(_Incident(begin, begin + length, failure, rate))
    incidents.sort(key=lambda incident: incident.start_ms)
    return incidents


# --- Runs ------------------------------------------------------------------------------------


# "SS.mmmZ" for every millisecond of a minute.
_SECONDS: Final = tuple(f"{ms // 1000:02d}.{ms % 1000:03d}Z" for ms in range(60_000))


class _Clock:
    """RFC 3339 strings of millisecond times, formatting each minute once."""

    def __init__(self) -> None:
        self.minutes: dict[int, str] = {}

    def iso(self, ms: int) -> str:
        minute, rest = divmod(ms, 60_000)
        prefix = self.minutes.get(minute)
        if prefix is None:
            if len(self.minutes) > 200_000:
                self.minutes.clear()
            prefix = self.minutes[minute] = _when(minute * 60_000).strftime("%Y-%m-%dT%H:%M:")
        return prefix + _SECONDS[rest]


def _when(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _run_id(ms: int, rng: random.Random) -> str:
    """`run_` + a ULID of the start time, its random part from the seeded generator."""
    return f"run_{ULID.from_int((ms << 80) | rng.getrandbits(80))}"


@dataclass(order=True)
class _Retrigger:
    due_ms: int
    order: int
    state: _WorkflowState = field(compare=False)
    trigger: Trigger = field(compare=False)
    retry_of: str = field(compare=False)


@dataclass
class _WorkflowState:
    workflow: DemoWorkflow
    incidents: list[_Incident]
    next_incident: int = 0
    recent: deque[Trigger] = field(default_factory=lambda: deque(maxlen=64))

    def __post_init__(self) -> None:
        steps = self.workflow.steps
        self.names = tuple(name for name, _ in steps)
        self.kinds = tuple(kind for _, kind in steps)
        self.checks = tuple(i for i, kind in enumerate(self.kinds) if kind is StepKind.CHECK)

    def incident(self, ms: int) -> _Incident | None:
        incidents = self.incidents
        while self.next_incident < len(incidents) and incidents[self.next_incident].end_ms <= ms:
            self.next_incident += 1
        for incident in incidents[self.next_incident : self.next_incident + 3]:
            if incident.start_ms <= ms < incident.end_ms:
                return incident
        return None


_FINISHED, _FAILED, _SKIPPED = RunStatus.FINISHED.value, RunStatus.FAILED.value, "skipped"
_RUNNING, _PENDING = RunStatus.RUNNING.value, RunStatus.PENDING.value


class DemoRuns:
    """Makes the rows of `runs` demo runs, oldest first, in chunks."""

    def __init__(self, *, runs: int, days: int, seed: int, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        self.rng = random.Random(seed)
        self.names = _Names(self.rng)
        self.clock = _Clock()
        self.runs = max(runs, 0)
        self.now_ms = int((now.astimezone(UTC) - _EPOCH) / timedelta(milliseconds=1))
        self.start_ms = self.now_ms - days * 24 * _HOUR_MS
        self.states = [
            _WorkflowState(w, _incidents(w, self.start_ms, self.now_ms, self.rng))
            for w in WORKFLOWS
        ]
        self.retriggers: list[_Retrigger] = []
        self.retrigger_order = itertools.count()
        # The newest runs are still queued or running: the engine is busy right now.
        self.live = min(self.runs, max(4, self.runs // 4000))
        self.made = 0
        self.last_ms = self.start_ms
        self.times = self._start_times(days)

    def workflow_rows(self) -> list[dict[str, Any]]:
        created = _when(self.start_ms) - timedelta(days=90)
        return [w.row(created + timedelta(days=7 * i)) for i, w in enumerate(WORKFLOWS)]

    def _start_times(self, days: int) -> Iterator[int]:
        """Sorted start times (ms): hourly buckets weighted by weekday and hour, then uniform."""
        rng = self.rng
        buckets = days * 24
        weights = []
        for hour in range(buckets):
            at = _when(self.start_ms + hour * _HOUR_MS)
            weight = _HOUR_SHAPE[at.hour] * (1.0 if at.weekday() < 5 else _WEEKEND)
            weights.append(weight * (0.8 + 0.4 * rng.random()))
        total = sum(weights)
        expected = [self.runs * w / total for w in weights]
        counts = [int(e) for e in expected]
        by_remainder = sorted(range(buckets), key=lambda i: counts[i] - expected[i])
        for i in by_remainder[: self.runs - sum(counts)]:
            counts[i] += 1
        # The live runs all start in the last hour.
        while counts[-1] < self.live:
            busiest = max(range(buckets - 1), key=counts.__getitem__)
            counts[busiest] -= 1
            counts[-1] += 1
        for hour, count in enumerate(counts):
            begin = self.start_ms + hour * _HOUR_MS
            yield from sorted(begin + int(rng.random() * _HOUR_MS) for _ in range(count))

    def chunk(self, size: int) -> list[dict[str, Any]]:
        """The next `size` rows (fewer at the end), in start-time order."""
        rows = []
        for ms in itertools.islice(self.times, size):
            if self.retriggers and self.retriggers[0].due_ms <= ms:
                # A retrigger takes this slot, at its own time when that is still to come.
                retrigger = heapq.heappop(self.retriggers)
                at = max(retrigger.due_ms, self.last_ms)
                rows.append(self._run(at, retrigger.state, retrigger.trigger, retrigger, True))
            else:
                state = self._pick_workflow()
                again = bool(state.recent) and self.rng.random() < REUSE_RATE
                if again:
                    trigger = state.recent[int(self.rng.random() * len(state.recent))]
                else:
                    trigger = state.workflow.make(self.names)
                    state.recent.append(trigger)
                rows.append(self._run(ms, state, trigger, None, again))
            self.last_ms = ms
            self.made += 1
        return rows

    def _pick_workflow(self) -> _WorkflowState:
        point = self.rng.random() * _WORKFLOW_CUMULATIVE[-1]
        return self.states[bisect.bisect(_WORKFLOW_CUMULATIVE, point)]

    def _outcome(
        self, state: _WorkflowState, ms: int, retried: bool
    ) -> tuple[str, _Failure | None, str | None]:
        """The run's status, its failure and its skip reason."""
        rng = self.rng
        incident = state.incident(ms)
        if incident is not None and rng.random() < incident.rate:
            return _FAILED, incident.failure, None
        if not retried and rng.random() < SKIP_RATE:
            reasons = state.workflow.skip_reasons
            return _SKIPPED, None, reasons[int(rng.random() * len(reasons))]
        if rng.random() < BASE_FAILURE_RATE:
            point, cause = rng.random(), _CAUSE_MIX[-1][0]
            for candidate, share in _CAUSE_MIX:
                if point < share:
                    cause = candidate
                    break
                point -= share
            return _FAILED, _random_failure(state.workflow, cause, rng), None
        return _FINISHED, None, None

    def _run(
        self,
        ms: int,
        state: _WorkflowState,
        trigger: Trigger,
        retrigger: _Retrigger | None,
        again: bool,
    ) -> dict[str, Any]:
        rng = self.rng
        workflow = state.workflow
        run_id = _run_id(ms, rng)
        status, failure, skip_reason = self._outcome(state, ms, retrigger is not None)

        # Which steps ran, and when (ms): (start, end) each.
        last_step = len(state.kinds) - 1
        if failure is not None:
            last_step = failure.step
        elif skip_reason is not None and state.checks:
            last_step = state.checks[0]
        times: list[tuple[int, int]] = []
        at = ms + 20 + int(rng.random() * 280)
        for kind in state.kinds[: last_step + 1]:
            if kind is StepKind.WRITE:
                low, high = workflow.write_seconds
                seconds = low + (high - low) * rng.random()
                if rng.random() < 0.02:  # the destination asked to slow down: backoff
                    seconds += 30 + 240 * rng.random()
            elif kind is StepKind.READ:
                seconds = 0.15 + 1.2 * rng.random()
            else:
                seconds = 0.005 + 0.06 * rng.random()
            times.append((at, at + int(seconds * 1000)))
            at = times[-1][1] + int(rng.random() * 40)
        if failure is not None and failure.message in _OUTAGE_WAIT:
            begin = times[-1][0]
            times[-1] = (begin, begin + int(rng.uniform(*_OUTAGE_WAIT[failure.message]) * 1000))
            at = times[-1][1]
        finished_ms: int | None = at

        # The newest runs, and any whose end is still to come, are in flight.
        from_end = self.runs - self.made
        if at > self.now_ms or (from_end <= self.live and self.now_ms - ms < _HOUR_MS):
            finished_ms, failure, skip_reason = None, None, None
            if from_end <= self.live // 3 + 1:
                status, times = _PENDING, []
            else:
                status = _RUNNING
                begun = [t for t in times if t[0] <= self.now_ms] or times[:1]
                times = begun[: 1 + int(rng.random() * len(begun))]

        iso = self.clock.iso
        details = trigger.details
        steps: list[dict[str, Any]] = [
            {
                "name": state.names[index],
                "status": _FINISHED,
                "started_at": iso(begin),
                "finished_at": iso(end),
                "detail": details[index],
                "error": None,
            }
            for index, (begin, end) in enumerate(times)
        ]
        if steps:
            last = steps[-1]
            if status == _FAILED:
                assert failure is not None
                last["status"], last["error"] = _FAILED, failure.message
            elif status == _SKIPPED:
                last["status"], last["detail"] = _SKIPPED, skip_reason
            elif status == _RUNNING:
                last["status"], last["finished_at"], last["detail"] = _RUNNING, None, None
                last["started_at"] = iso(min(times[-1][0], self.now_ms))
                for step, (_, end) in zip(steps, times, strict=True):
                    if end > self.now_ms:
                        step["finished_at"] = iso(self.now_ms)

        if failure is not None and retrigger is None and rng.random() < RETRIGGER_RATE:
            due = at + int((60 + 3600 * rng.random() ** 2) * 1000)
            if due < self.now_ms:
                order = next(self.retrigger_order)
                heapq.heappush(self.retriggers, _Retrigger(due, order, state, trigger, run_id))

        started_at = _when(ms)
        finished_at = _when(finished_ms) if finished_ms is not None else None
        return {
            "id": run_id,
            "workflow_id": workflow.id,
            "reference": trigger.reference[:MAX_REFERENCE],
            "status": status,
            "started_at": started_at,
            "finished_at": finished_at,
            "updated_at": finished_at or started_at,
            "created_at": started_at,
            "error_message": failure.message if failure else None,
            "error_step": state.names[failure.step] if failure else None,
            "skip_reason": skip_reason,
            "result": (trigger.updated if again else trigger.created)
            if status == _FINISHED
            else None,
            "retry_of": retrigger.retry_of if retrigger is not None else None,
            "versions": {},
            "payload": trigger.payload,
            "steps": steps,
        }


async def fill_demo_data(
    store: RunStore,
    *,
    runs: int,
    days: int = 30,
    seed: int = 1,
    now: datetime | None = None,
) -> int:
    """Insert `runs` realistic runs started over the last `days`; returns how many it made.

    Rows are made and written in turn, `CHUNK_ROWS` a transaction: making them in a
    thread beside the writer is slower, as both then fight over the GIL.
    """
    demo = DemoRuns(runs=runs, days=days, seed=seed, now=now or datetime.now(UTC))
    await store.load_rows(demo.workflow_rows(), [])
    made = 0
    while made < demo.runs:
        rows = demo.chunk(min(CHUNK_ROWS, demo.runs - made))
        await store.load_rows((), rows)
        made += len(rows)
    return made
