"""The ten demo workflows: their steps, traffic weight, skip reasons and failure messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from bot.demo import triggers
from bot.demo.names import Names
from bot.demo.triggers import Trigger


class StepKind(StrEnum):
    READ = "read"  # calls the source system
    CHECK = "check"  # a workflow condition: where skipped runs stop
    MAP = "map"  # transforms the record
    WRITE = "write"  # calls the destination system


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
    make: Callable[[Names], Trigger]
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
        triggers.hubspot_salesforce,
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
        triggers.shopify_netsuite,
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
        triggers.stripe_quickbooks,
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
        triggers.zendesk_jira,
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
        triggers.typeform_hubspot,
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
        triggers.salesforce_slack,
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
        triggers.pipedrive_mailchimp,
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
        triggers.airtable_sheets,
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
        triggers.intercom_zendesk,
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
        triggers.greenhouse_bamboohr,
    ),
)
