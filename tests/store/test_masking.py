"""store/masking.py: what a person may see of a payload. Nothing under a secret-looking key
survives at any depth; secret-looking shapes are masked under any key; ordinary values stay."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.masking import MASK, is_secret_key, mask_payload, mask_text

SECRET_KEYS = [
    "token",
    "access_token",
    "refreshToken",
    "X-Auth-Token",
    "secret",
    "client_secret",
    "clientSecret",
    "password",
    "db.password",
    "PASSWD",
    "api_key",
    "apiKey",
    "x-api-key",
    "APIKey",
    "access_key_id",
    "aws_secret_access_key",
    "private_key",
    "privateKey",
    "Authorization",
    "auth",
    "auth_header",
    "cookie",
    "Set-Cookie",
    "session",
    "sessionId",
    "PHPSESSID",
    "credentials",
    "gcpCredential",
    "signature",
    "X-Hub-Signature-256",
    "webhook_signing_key",
]

NOT_SECRET_KEYS = [
    "deal_id",
    "amount",
    "author",
    "authored_by",
    "possession",
    "name",
    "email",
    "key_count_label",
    "keyword",
    "description",
    "stage",
    "owner",
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys_are_recognised_in_any_spelling(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", NOT_SECRET_KEYS)
def test_ordinary_keys_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)


# Realistic values an engine sends that people need to read: each stays as it is.
ORDINARY = [
    "ACME Corp — Renewal 2027",
    "Deals → Opportunities",
    "jane.doe+renewals@acme-corp.example.com",
    "https://acme.my.salesforce.com/lightning/r/Opportunity/0068c00001/view",
    "https://api.example.com/v1/deals?id=9918&limit=5",
    "3f2b8c1e-9a7d-4e6f-8b5a-1c2d3e4f5a6b",  # a UUID is an ID, not a secret
    "run_01JD3ZQ5N8W7X6Y5V4T3S2R1Q0",
    "01JD3ZQ5N8W7X6Y5V4T3S2R1Q0",
    "2026-11-20T10:02:03.123456+00:00",
    "2026-11-20",
    "invoices/2026/11/acme-renewal-0042.pdf",
    "ACMECorpRenewal2027Q3Opportunity",
    "Basic Support Renewal",
    "Bearer of bad news",
    "Token expired at 10:02",
    "Closed Won",
    "שלום עולם — חידוש 2027",
    "🚀 Launch deal 🎉",
    "0068c00001",
    "cus_NffrFeUfNV2Hib",
    "+1 (555) 010-9999",
    "HubSpot deal 9918: ACME Corp — Renewal 2027",
]


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_values_stay(value: str) -> None:
    assert mask_text(value) == value
    assert mask_payload({"field": value, "list": [value]}) == ({"field": value, "list": [value]}, 0)


# Secret-looking shapes, under an innocent key: (value, what is shown).
SHAPES = [
    ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", f"Bearer {MASK}"),
    ("bearer abc.def-1234567", f"bearer {MASK}"),
    ("Basic dXNlcjpwYXNzd29yZA==", f"Basic {MASK}"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", MASK),
    ("xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", MASK),
    ("xapp-1-A0123456789-1234567890-abcdef", MASK),
    ("AKIAIOSFODNN7EXAMPLE", MASK),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", MASK),
    ("sk-proj-abcdefghijklmnop1234", MASK),
    ("sk_live_51HabcdEFGhijkLMN", MASK),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", MASK),
    ("a3f9c81b27d64e0f9a1b2c3d4e5f6a7b", MASK),
    (
        "https://bob:hunter2@db.example.com:5432/deals",
        f"https://bob:{MASK}@db.example.com:5432/deals",
    ),
    (
        "https://api.example.com/v1/deals?id=9918&access_token=abcd&limit=5",
        f"https://api.example.com/v1/deals?id=9918&access_token={MASK}&limit=5",
    ),
    (
        "https://maps.example.com/x?key=AIzaSyA-1234567890abcdefghijklmnopqrst",
        f"https://maps.example.com/x?key={MASK}",
    ),
    (
        "call failed: Authorization: Bearer 9f8e7d6c5b4a39281706 rejected",
        f"call failed: Authorization: Bearer {MASK} rejected",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
        MASK,
    ),
]


@pytest.mark.parametrize(("value", "shown"), SHAPES)
def test_secret_shapes_are_masked_under_any_key(value: str, shown: str) -> None:
    masked = mask_payload({"note": value, "deep": [{"x": value}]})
    assert masked.payload == {"note": shown, "deep": [{"x": shown}]}
    assert masked.masked == 2


def test_a_secret_keys_whole_value_is_masked_and_counted_and_the_input_is_untouched() -> None:
    payload: dict[str, Any] = {
        "deal_id": 9918,
        "credentials": {"user": "bob", "password": "hunter2"},
        "headers": [{"Authorization": "anything"}, {"Accept": "application/json"}],
        "api_key": 123456,
        "has_password": True,
        "client_secret": None,
        "token": "",
    }
    original = json.loads(json.dumps(payload))
    masked = mask_payload(payload)
    assert masked.payload == {
        "deal_id": 9918,
        "credentials": MASK,
        "headers": [{"Authorization": MASK}, {"Accept": "application/json"}],
        "api_key": MASK,
        # Null, true/false and "" say whether one is set, never what it is.
        "has_password": True,
        "client_secret": None,
        "token": "",
    }
    assert masked.masked == 3
    assert payload == original
    assert mask_payload(masked.payload) == (masked.payload, 0), "masking twice masks nothing new"


# --- properties ----------------------------------------------------------------------------

_plain_keys = st.sampled_from(NOT_SECRET_KEYS)
_scalars = st.none() | st.booleans() | st.integers() | st.sampled_from(ORDINARY)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_plain_keys, children, max_size=4)
    ),
    max_leaves=20,
)
# What hides under a secret key: any text, number or structure.
_secret_values = (
    st.text(min_size=1).filter(lambda text: text != MASK)
    | st.integers()
    | st.floats(allow_nan=False)
    | st.lists(st.text(min_size=1), min_size=1)
    | st.dictionaries(st.text(min_size=1), st.text(), min_size=1)
)


@st.composite
def _payload_with_secret(draw: st.DrawFn) -> tuple[Any, list[Any], Any]:
    """A payload, the path to a secret key put somewhere in it, and that key's value."""
    tree = draw(_json)
    key = draw(st.sampled_from(SECRET_KEYS))
    value = draw(_secret_values)
    depth = draw(st.integers(min_value=0, max_value=4))
    node: Any = {key: value}
    path: list[Any] = [key]
    for _ in range(depth):
        if draw(st.booleans()):
            node = {draw(_plain_keys): node}
            path.insert(0, next(iter(node)))
        else:
            position = draw(st.integers(min_value=0, max_value=2))
            node = [*([None] * position), node]
            path.insert(0, position)
    root = {"payload": node, "other": tree}
    return root, ["payload", *path], value


def _at(value: Any, path: list[Any]) -> Any:
    for step in path:
        value = value[step]
    return value


@settings(max_examples=300, deadline=None)
@given(_payload_with_secret())
def test_nothing_under_a_secret_key_survives_at_any_depth(
    case: tuple[Any, list[Any], Any],
) -> None:
    payload, path, _value = case
    masked = mask_payload(payload)
    assert _at(masked.payload, path) == MASK
    assert masked.masked >= 1
    assert _at(payload, path) is not MASK, "the input is not changed"


@settings(max_examples=200, deadline=None)
@given(_json)
def test_payloads_of_ordinary_values_under_ordinary_keys_stay_whole(payload: Any) -> None:
    assert mask_payload(payload) == (payload, 0)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_text_masks_without_error_and_masking_twice_changes_nothing(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        min_size=32,
        max_size=64,
    ).filter(lambda key: sum(char.isdigit() for char in key) >= 6)
)
def test_long_generated_keys_are_masked_inside_text(key: str) -> None:
    # Random base62 keys change character class at about every other character.
    classes = [0 if c.isdigit() else 1 if c.islower() else 2 for c in key]
    changes = sum(a != b for a, b in zip(classes, classes[1:], strict=False))
    if changes < 0.45 * (len(key) - 1):
        return
    assert key not in mask_text(f"the key is {key} now")
