"""The retrigger answers as Slack takes them: within Block Kit's limits whatever the engine
or a person sent, escaped, and saying what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from handlers.blocks.retrigger import (
    GROUP_RUNS_SHOWN,
    already_retriggered,
    answer_modal,
    confirm_retrigger,
    group_to_recover,
    not_allowed,
    not_configured,
    retrigger_usage,
    retriggered,
)
from store.errors import RetriggerInFlight, RetriggerNotConfigured
from store.types import RunStatus
from tests.fake_slack import buttons, check_message, check_view, rendered_text
from tests.handlers.test_runs_blocks import OUR_TOKENS, run

ASKED = datetime(2026, 11, 20, 10, 2, tzinfo=UTC)
HOSTILE = "<!channel> & <@U0EVIL> `x`" + "é" * 300


def test_every_answer_is_a_message_slack_takes_with_the_text_escaped() -> None:
    hostile = run(1, reference=HOSTILE, error_message=HOSTILE)
    messages = [
        confirm_retrigger(hostile),
        confirm_retrigger(run(2, status=RunStatus.FINISHED, reference=HOSTILE)),
        group_to_recover([run(n, reference=HOSTILE) for n in range(1, 31)], 30),
        group_to_recover([], 0),
        retriggered(HOSTILE, "run_new"),
        already_retriggered(
            RetriggerInFlight(
                "run_01", new_run_id="run_new", requested_by=HOSTILE, requested_at=ASKED
            )
        ),
        not_allowed(unchecked=False),
        not_allowed(unchecked=True),
        not_configured(RetriggerNotConfigured("RUNSBOT_TRIGGER_URL", workflow_id=HOSTILE)),
        not_configured(RetriggerNotConfigured("RUNSBOT_TRIGGER_SECRET")),
        retrigger_usage("failed wf:x"),
    ]
    for message in messages:
        payload = message.to_dict()
        assert check_message(payload) == [], rendered_text(payload)
        assert message.text
        leftover = OUR_TOKENS.sub("", rendered_text(payload))
        assert "<!channel>" not in leftover and "<@U0EVIL>" not in leftover
        assert check_view(answer_modal(message).to_dict()) == []


def test_a_group_lists_its_first_runs_each_with_a_retrigger_and_says_how_many_more() -> None:
    runs = [run(n) for n in range(1, 41)]
    message = group_to_recover(runs, 57).to_dict()
    offered = [b.value for b in buttons(message) if b.text == "Retrigger"]
    assert offered == [f"run_{n:02d}" for n in range(1, GROUP_RUNS_SHOWN + 1)]
    assert "57 runs" in rendered_text(message) and "37 more" in rendered_text(message)


def test_the_answers_name_who_what_and_what_to_set() -> None:
    in_flight = RetriggerInFlight(
        "run_01", new_run_id="run_new", requested_by="slack:U0ALICE01", requested_at=ASKED
    )
    told = already_retriggered(in_flight).to_dict()
    assert "<@U0ALICE01> already retriggered this run as `run_new`" in rendered_text(told)
    # When, in each reader's own zone (the token's fallback says UTC).
    assert "`run_new` <!date^1795168920^" in told["blocks"][0]["text"]["text"]
    by_api = RetriggerInFlight(
        "run_01", new_run_id="run_new", requested_by="ops-script", requested_at=ASKED
    )
    assert "ops-script already retriggered" in rendered_text(already_retriggered(by_api).to_dict())
    assert "RUNSBOT_RETRIGGER_USERS" in rendered_text(not_allowed(unchecked=False).to_dict())
    url = rendered_text(
        not_configured(RetriggerNotConfigured("RUNSBOT_TRIGGER_URL", workflow_id="wf-1")).to_dict()
    )
    assert "PUT /api/v1/workflows/wf-1" in url and "RUNSBOT_TRIGGER_URL" in url
    secret = not_configured(RetriggerNotConfigured("RUNSBOT_TRIGGER_SECRET")).to_dict()
    assert "RUNSBOT_TRIGGER_SECRET" in rendered_text(secret)
    assert "not available yet" in rendered_text(retrigger_usage("failed today").to_dict())
    assert "not available yet" not in rendered_text(retrigger_usage("").to_dict())
