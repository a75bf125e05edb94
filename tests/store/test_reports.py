"""How reports fold into a stored run: ranked, idempotent, order-independent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from store.reports import (
    RunReport,
    RunState,
    decode_versions,
    encode_versions,
    merge,
    new_state,
    rank_key,
)
from store.run_store import RunStore

RECEIVED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def report(**fields: Any) -> RunReport:
    body = {"id": "run_1", "workflow": {"id": "wf", "source": "A", "destination": "B"}}
    return RunReport.model_validate({**body, **fields})


def fold(reports: list[RunReport]) -> RunState:
    state: RunState | None = None
    for item in reports:
        key = rank_key(item, RECEIVED)
        state = (
            new_state("run_1", item, key, RECEIVED)
            if state is None
            else merge(state, item, key, RECEIVED)
        )
    assert state is not None
    return state


def test_a_higher_status_overwrites_what_it_carries() -> None:
    running = report(status="running", reference="Deal 1", result="partial")
    failed = report(status="failed", reference="Deal 1 (renamed)", error={"message": "boom"})
    state = fold([running, failed])
    assert state.status == "failed"
    assert state.reference == "Deal 1 (renamed)"
    assert state.error_message == "boom"
    assert state.result == "partial"  # not carried by the failure: kept


def test_a_late_lower_report_only_fills_what_is_empty() -> None:
    failed = report(status="failed", reference="Deal 1", error={"message": "boom"})
    late_running = report(status="running", reference="Other", skip_reason="n/a")
    state = fold([failed, late_running])
    assert state.status == "failed"
    assert state.reference == "Deal 1"
    assert state.skip_reason == "n/a"


def test_terminal_reports_are_ranked_by_updated_at() -> None:
    early = report(status="failed", error={"message": "boom"}, updated_at="2026-11-20T10:00:00Z")
    late = report(status="finished", result="ok", updated_at="2026-11-20T10:05:00Z")
    assert fold([early, late]).status == "finished"
    assert fold([late, early]).status == "finished"


def test_reports_before_year_1000_are_ranked_by_updated_at_too() -> None:
    old = report(status="finished", result="old", updated_at="0999-01-01T00:00:00Z")
    new = report(status="finished", result="new", updated_at="1999-11-20T10:05:00Z")
    assert fold([old, new]).result == "new"
    assert fold([new, old]).result == "new"


def test_steps_are_replaced_whole_never_merged() -> None:
    first = report(status="running", steps=[{"name": "Fetch"}, {"name": "Map"}])
    second = report(status="failed", error={"message": "x"}, steps=[{"name": "Create"}])
    state = fold([first, second])
    assert [step["name"] for step in state.steps or []] == ["Create"]


def test_versions_survive_their_compact_encoding() -> None:
    state = fold(
        [report(status="running", reference="r"), report(status="failed", error={"message": "e"})]
    )
    assert decode_versions(encode_versions(state.versions)) == state.versions
    assert len(encode_versions(state.versions)) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": "failed", "started_at": "yesterday"}, "started_at"),
        ({"status": "failed", "started_at": "2026-11-20T10:00:00"}, "started_at"),
        ({"status": "failed", "id": "run with spaces"}, "id"),
        ({"status": "failed", "reference": "x" * 256}, "reference"),
        ({"status": "failed", "payload": [1, 2]}, "payload"),
        ({"status": "failed", "payload": {"blob": "x" * (256 * 1024)}}, "payload"),
    ],
)
def test_invalid_reports_name_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        report(**fields)
    assert caught.value.errors()[0]["loc"][0] == field


# Property: any order and repetition of the same reports ends in the same run.

statuses = st.sampled_from(["pending", "running", "finished", "failed", "skipped"])
times = st.sampled_from([None, *(f"2026-11-20T10:0{minute}:00Z" for minute in range(3))])
texts = st.one_of(st.none(), st.sampled_from(["a", "b", "Zoë — ünïcode"]))


@st.composite
def reports(draw: st.DrawFn, reference_required: bool = False) -> RunReport:
    status = draw(statuses)
    fields: dict[str, Any] = {
        "status": status,
        "updated_at": draw(times),
        "reference": draw(st.sampled_from(["r1", "r2"]) if reference_required else texts),
        "result": draw(texts),
        "skip_reason": draw(texts),
        "started_at": draw(times),
        "finished_at": draw(times),
        "payload": draw(st.one_of(st.none(), st.fixed_dictionaries({"n": st.integers(0, 2)}))),
        "steps": draw(
            st.one_of(
                st.none(), st.lists(st.fixed_dictionaries({"name": texts.filter(bool)}), max_size=2)
            )
        ),
    }
    message = draw(texts)
    if status == "failed" or message is not None:
        fields["error"] = {"message": message or "boom", "step": draw(texts)}
    return report(**{key: value for key, value in fields.items() if value is not None})


@given(st.lists(reports(), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_any_order_and_repetition_folds_to_the_same_state(items: list[RunReport], rng: Any) -> None:
    shuffled = items + rng.sample(items, k=rng.randint(0, len(items)))
    rng.shuffle(shuffled)
    assert fold(shuffled) == fold(items)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(reports(reference_required=True), min_size=1, max_size=5),
    rng=st.randoms(use_true_random=False),
)
async def test_the_store_converges_whatever_the_order(
    items: list[RunReport], rng: Any, database_url: str
) -> None:
    """Through the real store: each order of the reports, on a fresh run ID, ends the same."""
    store = RunStore.open(database_url, clock=lambda: RECEIVED)
    orders = [items, list(reversed(items)), rng.sample(items, k=len(items)) + items[:1]]
    try:
        finals = []
        for order in orders:
            run_id = f"run_{uuid.uuid4().hex}"
            for item in order:
                (outcome,) = await store.report_runs([item.model_copy(update={"id": run_id})])
                assert outcome.error is None
            detail = await store.get_run(run_id)
            assert detail is not None
            finals.append(
                {
                    **detail.summary.__dict__,
                    "id": None,
                    "created_at": None,
                    "payload": detail.payload,
                    "steps": detail.steps,
                }
            )
        assert finals[0] == finals[1] == finals[2]
    finally:
        await store.close()
