"""What one record of each workflow makes of a run: its reference, payload and step details.

Each of the ten workflows has a generator here, named for its source and destination, that
draws a record (a deal, an order, a ticket, a form response…) from `Names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from bot.demo.names import Names


@dataclass(frozen=True)
class Trigger:
    """What one record makes of a run: its reference, payload, per-step details and result."""

    reference: str
    payload: dict[str, Any]
    details: tuple[str, ...]
    created: str  # the result the first time the record is moved
    updated: str  # the result when the same record comes again


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


def hubspot_salesforce(n: Names) -> Trigger:
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


def shopify_netsuite(n: Names) -> Trigger:
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


def stripe_quickbooks(n: Names) -> Trigger:
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


def zendesk_jira(n: Names) -> Trigger:
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


def typeform_hubspot(n: Names) -> Trigger:
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


def salesforce_slack(n: Names) -> Trigger:
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


def pipedrive_mailchimp(n: Names) -> Trigger:
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


def airtable_sheets(n: Names) -> Trigger:
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


def intercom_zendesk(n: Names) -> Trigger:
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


def greenhouse_bamboohr(n: Names) -> Trigger:
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
