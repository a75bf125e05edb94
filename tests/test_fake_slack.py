"""The fake Slack behaves like Slack for the real clients: slack_sdk's Web API client, its Socket
Mode client, and a Bolt app served over HTTP and over Socket Mode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fake_slack import (
    ALERTS_CHANNEL,
    ALICE,
    BOB,
    CAROL,
    DAVE,
    GENERAL_CHANNEL,
    ONCALL_GROUP,
    OPS_CHANNEL,
    PRIVATE_CHANNEL,
    AckTimeout,
    Error,
    FakeSlack,
    Message,
    RateLimit,
    RateLimited,
    ServerError,
    SlackDriver,
    Slow,
    buttons,
    check_message,
    check_view,
    payloads,
    rendered_text,
    wait_until,
)

JsonDict = dict[str, Any]


# -- Block Kit for the tests ---------------------------------------------------------------


def plain(text: str) -> JsonDict:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> JsonDict:
    return {"type": "mrkdwn", "text": text}


def section(text: str, **extra: Any) -> JsonDict:
    return {"type": "section", "text": mrkdwn(text), **extra}


def button(text: str, action_id: str, value: str = "v", **extra: Any) -> JsonDict:
    return {"type": "button", "text": plain(text), "action_id": action_id, "value": value, **extra}


def actions(*elements: JsonDict, block_id: str = "actions") -> JsonDict:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def message(*blocks: JsonDict) -> JsonDict:
    return {"text": "fallback", "blocks": list(blocks)}


def confirm(title: str = "Retrigger?", text: str = "It runs again.") -> JsonDict:
    return {
        "title": plain(title),
        "text": plain(text),
        "confirm": plain("Yes"),
        "deny": plain("No"),
    }


def select(text: str, value: str) -> JsonDict:
    option = {"text": plain(text), "value": value}
    return {"type": "static_select", "action_id": "pick", "options": [option]}


def modal(title: str = "Add a note", **extra: Any) -> JsonDict:
    note_input = {
        "type": "input",
        "block_id": "note_block",
        "label": plain("Note"),
        "element": {"type": "plain_text_input", "action_id": "note_input"},
    }
    view = {
        "type": "modal",
        "callback_id": "note_submit",
        "title": plain(title),
        "submit": plain("Save"),
        "blocks": [note_input],
    }
    return {**view, **extra}


# -- helpers -------------------------------------------------------------------------------


def web_client(slack: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, **kwargs)


async def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the Web API ---------------------------------------------------------------------------


async def test_tokens_are_checked_like_slack(fake_slack: FakeSlack) -> None:
    no_token = AsyncWebClient(base_url=fake_slack.api_url)
    wrong = AsyncWebClient(token="xoxb-not-ours", base_url=fake_slack.api_url)
    app_level = AsyncWebClient(token=fake_slack.app_token, base_url=fake_slack.api_url)
    bot = web_client(fake_slack)

    assert (await slack_error(no_token.auth_test())).response["error"] == "not_authed"
    assert (await slack_error(wrong.auth_test())).response["error"] == "invalid_auth"
    failure = await slack_error(app_level.chat_postMessage(channel=ALERTS_CHANNEL, text="x"))
    assert failure.response["error"] == "not_allowed_token_type"
    failure = await slack_error(bot.apps_connections_open(app_token=fake_slack.bot_token))
    assert failure.response["error"] == "not_allowed_token_type"
    failure = await slack_error(bot.api_call("chat.postMesage"))
    assert failure.response["error"] == "unknown_method"

    me = await bot.auth_test()
    assert (me["user_id"], me["team_id"]) == (fake_slack.bot_user_id, fake_slack.team_id)
    tokens = [call.token for call in fake_slack.calls_to("auth.test")]
    assert tokens == [None, "xoxb-not-ours", fake_slack.bot_token]


async def test_posted_messages_get_unique_increasing_ts(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    answers = await asyncio.gather(
        *(client.chat_postMessage(channel=ALERTS_CHANNEL, text=f"run {n}") for n in range(20))
    )
    stamps = [answer["ts"] for answer in answers]
    assert len(set(stamps)) == 20
    assert all(len(ts) == 17 and ts[10] == "." for ts in stamps)  # like "1732512345.000100"
    in_channel = [m.ts for m in fake_slack.messages(ALERTS_CHANNEL)]
    assert in_channel == sorted(stamps, key=lambda ts: tuple(map(int, ts.split("."))))
    assert answers[0]["channel"] == ALERTS_CHANNEL
    assert answers[0]["message"]["bot_id"] == fake_slack.bot_id


async def test_channels_the_bot_cannot_post_in(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    for channel, error in [
        ("C0NOSUCH1", "channel_not_found"),
        (PRIVATE_CHANNEL, "channel_not_found"),
        (GENERAL_CHANNEL, "not_in_channel"),
    ]:
        failure = await slack_error(client.chat_postMessage(channel=channel, text="hello"))
        assert (failure.response.status_code, failure.response["error"]) == (200, error)

    dm = await client.chat_postMessage(channel=BOB, text="your retrigger failed")
    assert dm["channel"].startswith("D")
    assert [m.text for m in fake_slack.messages(dm["channel"])] == ["your retrigger failed"]
    info = await client.conversations_info(channel=GENERAL_CHANNEL)
    assert info["channel"]["is_member"] is False


async def test_threads_replies_and_broadcasts(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    parent = await client.chat_postMessage(channel=ALERTS_CHANNEL, text="Run failed")
    await client.chat_postMessage(
        channel=ALERTS_CHANNEL, text="retriggered", thread_ts=parent["ts"]
    )
    await client.chat_postMessage(
        channel=ALERTS_CHANNEL, text="still failing", thread_ts=parent["ts"], reply_broadcast=True
    )

    assert [m.text for m in fake_slack.messages(ALERTS_CHANNEL)] == ["Run failed", "still failing"]
    thread = fake_slack.thread(ALERTS_CHANNEL, parent["ts"])
    assert [m.text for m in thread] == ["Run failed", "retriggered", "still failing"]
    assert thread[0].reply_count == 2
    replies = await client.conversations_replies(channel=ALERTS_CHANNEL, ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == [m.text for m in thread]
    assert replies["messages"][0]["reply_count"] == 2

    failure = await slack_error(
        client.chat_postMessage(channel=ALERTS_CHANNEL, text="x", thread_ts="1.000001")
    )
    assert failure.response["error"] == "thread_not_found"
    link = await client.chat_getPermalink(channel=ALERTS_CHANNEL, message_ts=thread[1].ts)
    assert link["permalink"].endswith(f"?thread_ts={parent['ts']}&cid={ALERTS_CHANNEL}")


async def test_update_delete_and_ephemeral(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    blocks = [section("*Run failed*"), actions(button("Retrigger", "retrigger"))]
    posted = await client.chat_postMessage(channel=ALERTS_CHANNEL, text="Run failed", blocks=blocks)

    # chat.update keeps the blocks it is not given, and [] removes them.
    await client.chat_update(channel=ALERTS_CHANNEL, ts=posted["ts"], text="Run retriggered")
    alert = fake_slack.message(ALERTS_CHANNEL, posted["ts"])
    assert alert.text == "Run retriggered" and alert.edited is not None
    assert [b.text for b in buttons(alert)] == ["Retrigger"]
    await client.chat_update(channel=ALERTS_CHANNEL, ts=posted["ts"], text="done", blocks=[])
    assert rendered_text(fake_slack.message(ALERTS_CHANNEL, posted["ts"])) == "done"

    someone_elses = fake_slack.add_user_message(ALERTS_CHANNEL, ALICE, "looking")
    failure = await slack_error(
        client.chat_update(channel=ALERTS_CHANNEL, ts=someone_elses.ts, text="x")
    )
    assert failure.response["error"] == "cant_update_message"

    answer = await client.chat_postEphemeral(channel=ALERTS_CHANNEL, user=ALICE, text="only you")
    only_alice = [(e.user, e.text, e.ts) for e in fake_slack.ephemerals(channel=ALERTS_CHANNEL)]
    assert only_alice == [(ALICE, "only you", answer["message_ts"])]

    await client.chat_delete(channel=ALERTS_CHANNEL, ts=posted["ts"])
    assert [m.text for m in fake_slack.messages(ALERTS_CHANNEL)] == ["looking"]
    failure = await slack_error(client.chat_delete(channel=ALERTS_CHANNEL, ts=posted["ts"]))
    assert failure.response["error"] == "message_not_found"


async def test_people_groups_and_recorded_calls(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    dave = (await client.users_info(user=DAVE))["user"]
    assert (dave["tz"], dave["tz_offset"], dave["real_name"]) == ("Asia/Kolkata", 19800, "Dave Das")
    failure = await slack_error(client.users_info(user="U0NOBODY1"))
    assert failure.response["error"] == "user_not_found"
    assert (await client.usergroups_users_list(usergroup=ONCALL_GROUP))["users"] == [ALICE, BOB]

    # Blocks sent form-encoded (a JSON string) are recorded decoded.
    blocks = [section("hi")]
    form = {"channel": OPS_CHANNEL, "text": "hi", "blocks": json.dumps(blocks)}
    await client.api_call("chat.postMessage", data=form)
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert (call.params["blocks"], call.token, call.ok) == (blocks, fake_slack.bot_token, True)


# -- Block Kit limits ----------------------------------------------------------------------


async def test_block_kit_violations_are_refused_and_recorded(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    too_long = button("R" * 76, "retrigger")
    failure = await slack_error(
        client.chat_postMessage(
            channel=ALERTS_CHANNEL, text="Run failed", blocks=[actions(too_long)]
        )
    )
    assert failure.response["error"] == "invalid_blocks"
    assert failure.response["errors"] == [
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"
    ]
    assert fake_slack.messages(ALERTS_CHANNEL) == []
    assert len(fake_slack.violations) == 1
    with pytest.raises(AssertionError, match="must be less than 76 characters"):
        fake_slack.assert_no_violations()

    failure = await slack_error(client.api_call("chat.postMessage", json={"channel": OPS_CHANNEL}))
    assert failure.response["error"] == "no_text"


LIMIT_CASES = [
    pytest.param(
        message(*[section("x")] * 51),
        "no more than 50 items allowed [json-pointer:/blocks]",
        id="51 blocks",
    ),
    pytest.param(
        {"text": "x" * 40_001},
        "must be less than 40001 characters [json-pointer:/text]",
        id="text over 40,000",
    ),
    pytest.param({}, "must provide either `text` or `blocks` [json-pointer:/]", id="empty"),
    pytest.param(
        message(section("x" * 3001)),
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        id="section text over 3,000",
    ),
    pytest.param(
        message(section("")),
        "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
        id="empty section text",
    ),
    pytest.param(
        message({"type": "section", "fields": [mrkdwn("f")] * 11}),
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
        id="11 section fields",
    ),
    pytest.param(
        message({"type": "section", "fields": [mrkdwn("f" * 2001)]}),
        "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        id="section field over 2,000",
    ),
    pytest.param(
        message({"type": "header", "text": plain("h" * 151)}),
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        id="header over 150",
    ),
    pytest.param(
        message({"type": "header", "text": mrkdwn("*h*")}),
        "must be `plain_text` here, not `mrkdwn` [json-pointer:/blocks/0/text/type]",
        id="mrkdwn header",
    ),
    pytest.param(
        message({"type": "context", "elements": [mrkdwn("c")] * 11}),
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
        id="11 context elements",
    ),
    pytest.param(
        message(actions(*(button("b", f"a{n}") for n in range(26)))),
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
        id="26 actions",
    ),
    pytest.param(
        message(actions(button("b", "same"), button("c", "same"))),
        "duplicate action_id `same` in one block [json-pointer:/blocks/0/elements/1/action_id]",
        id="duplicate action_id in a block",
    ),
    pytest.param(
        message(section("a", block_id="b"), section("b", block_id="b")),
        "duplicate block_id `b` [json-pointer:/blocks/1/block_id]",
        id="duplicate block_id",
    ),
    pytest.param(
        message(section("a", block_id="b" * 256)),
        "must be less than 256 characters [json-pointer:/blocks/0/block_id]",
        id="block_id over 255",
    ),
    pytest.param(
        message(section("a", accessory=button("b", "a" * 256))),
        "must be less than 256 characters [json-pointer:/blocks/0/accessory/action_id]",
        id="action_id over 255",
    ),
    pytest.param(
        message(section("a", accessory=button("b", "a", "v" * 2001))),
        "must be less than 2001 characters [json-pointer:/blocks/0/accessory/value]",
        id="button value over 2,000",
    ),
    pytest.param(
        message(section("a", accessory=button("b", "a", url="u" * 3001))),
        "must be less than 3001 characters [json-pointer:/blocks/0/accessory/url]",
        id="button url over 3,000",
    ),
    pytest.param(
        message(section("a", accessory={**button("b", "a"), "text": mrkdwn("b")})),
        "must be `plain_text` here, not `mrkdwn` [json-pointer:/blocks/0/accessory/text/type]",
        id="mrkdwn button text",
    ),
    pytest.param(
        message(section("a", accessory=button("b", "a", confirm=confirm(title="t" * 101)))),
        "must be less than 101 characters [json-pointer:/blocks/0/accessory/confirm/title/text]",
        id="confirm title over 100",
    ),
    pytest.param(
        message(section("a", accessory=button("b", "a", confirm=confirm(text="t" * 301)))),
        "must be less than 301 characters [json-pointer:/blocks/0/accessory/confirm/text/text]",
        id="confirm text over 300",
    ),
    pytest.param(
        message(section("a", accessory=select("o" * 76, "v"))),
        "must be less than 76 characters [json-pointer:/blocks/0/accessory/options/0/text/text]",
        id="option text over 75",
    ),
    pytest.param(
        message(section("a", accessory=select("o", "v" * 151))),
        "must be less than 151 characters [json-pointer:/blocks/0/accessory/options/0/value]",
        id="option value over 150",
    ),
]


@pytest.mark.parametrize(("payload", "problem"), LIMIT_CASES)
def test_message_limits(payload: JsonDict, problem: str) -> None:
    assert problem in check_message(payload)


def test_every_limit_is_inclusive() -> None:
    at_the_limit = message(
        *[section("x" * 3000, block_id=f"b{n}") for n in range(48)],
        {"type": "header", "text": plain("h" * 150)},
        actions(
            button("b" * 75, "a" * 255, "v" * 2000, confirm=confirm("t" * 100, "x" * 300)),
            select("o" * 75, "v" * 150),
            block_id="i" * 255,
        ),
    )
    assert check_message({**at_the_limit, "text": "x" * 40_000}) == []
    assert check_view(modal("t" * 24, private_metadata="m" * 3000, callback_id="c" * 255)) == []


def test_view_limits() -> None:
    problems = check_view(
        modal(
            title="A title well over 24 chars",
            close=plain("c" * 25),
            private_metadata="m" * 3001,
            callback_id="c" * 256,
            blocks=[section("x")] * 101,
        )
    )
    assert problems == [
        "no more than 100 items allowed [json-pointer:/view/blocks]",
        "must be less than 25 characters [json-pointer:/view/title/text]",
        "must be less than 25 characters [json-pointer:/view/close/text]",
        "must be less than 3001 characters [json-pointer:/view/private_metadata]",
        "must be less than 256 characters [json-pointer:/view/callback_id]",
    ]
    without_submit = {key: value for key, value in modal().items() if key != "submit"}
    assert check_view(without_submit) == [
        "missing required field: submit (the view has inputs) [json-pointer:/view/submit]"
    ]
    assert check_view({**modal(), "title": mrkdwn("*Note*")}) == [
        "must be `plain_text` here, not `mrkdwn` [json-pointer:/view/title/type]"
    ]


# -- rate limits and faults ----------------------------------------------------------------


async def test_posting_limit_answers_429_with_retry_after() -> None:
    async with FakeSlack(
        post_limit_per_channel=RateLimit(1.0, burst=1),
        method_limits={"chat.update": RateLimit(50 / 60)},  # Tier 3
    ) as slack:
        plain_client = web_client(slack)
        first = await plain_client.chat_postMessage(channel=ALERTS_CHANNEL, text="first")
        failure = await slack_error(plain_client.chat_postMessage(channel=ALERTS_CHANNEL, text="2"))
        assert failure.response.status_code == 429
        assert failure.response["error"] == "ratelimited"
        assert failure.response.headers["Retry-After"] == "1"
        await plain_client.chat_postMessage(channel=OPS_CHANNEL, text="each channel has its own")

        await plain_client.chat_update(channel=ALERTS_CHANNEL, ts=first["ts"], text="edited")
        failure = await slack_error(
            plain_client.chat_update(channel=ALERTS_CHANNEL, ts=first["ts"], text="again")
        )
        assert failure.response.headers["Retry-After"] == "2"  # 1.2 s rounded up

        patient = web_client(slack, retry_handlers=[AsyncRateLimitErrorRetryHandler(2)])
        await patient.chat_postMessage(channel=ALERTS_CHANNEL, text="second, after waiting")
        assert [m.text for m in slack.messages(ALERTS_CHANNEL)] == [
            "edited",
            "second, after waiting",
        ]
        assert len(slack.throttled()) >= 3
        assert len(slack.post_times[ALERTS_CHANNEL]) == 2
        assert slack.max_posts_in_window(ALERTS_CHANNEL, 1.0) == 1


async def test_scripted_faults(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    fake_slack.script(
        "chat.postMessage", [RateLimited(retry_after=7), ServerError(503), Error("is_archived")]
    )
    limited = await slack_error(client.chat_postMessage(channel=OPS_CHANNEL, text="x"))
    assert (limited.response.status_code, limited.response.headers["Retry-After"]) == (429, "7")
    outage = await slack_error(client.chat_postMessage(channel=OPS_CHANNEL, text="x"))
    assert outage.response.status_code == 503
    archived = await slack_error(client.chat_postMessage(channel=OPS_CHANNEL, text="x"))
    assert archived.response["error"] == "is_archived"
    await client.chat_postMessage(channel=OPS_CHANNEL, text="x")
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 503, 200, 200]

    fake_slack.script("chat.postMessage", [ServerError(500)])
    resilient = web_client(fake_slack, retry_handlers=[AsyncServerErrorRetryHandler(1)])
    await resilient.chat_postMessage(channel=OPS_CHANNEL, text="after the outage")
    assert fake_slack.messages(OPS_CHANNEL)[-1].text == "after the outage"


async def test_slow_answers_hit_client_timeouts(fake_slack: FakeSlack) -> None:
    fake_slack.script("chat.postMessage", [Slow(seconds=0.5)])
    with pytest.raises(TimeoutError):
        await web_client(fake_slack, timeout=0.1).chat_postMessage(channel=OPS_CHANNEL, text="x")

    fake_slack.script("users.info", [Slow(seconds=0.2)])
    loop = asyncio.get_running_loop()
    started = loop.time()
    await web_client(fake_slack).users_info(user=ALICE)
    assert loop.time() - started >= 0.2


async def test_a_held_call_shows_its_fault_and_still_takes_effect_when_its_client_gave_up(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.script("chat.postMessage", [Slow(seconds=0.5)])
    posting = asyncio.create_task(
        web_client(fake_slack).chat_postMessage(channel=OPS_CHANNEL, text="x")
    )
    (held,) = await wait_until(
        lambda: [c for c in fake_slack.calls_to("chat.postMessage") if c.fault is not None]
    )
    assert held.fault == Slow(seconds=0.5)
    assert fake_slack.messages(OPS_CHANNEL) == []  # held: not answered, not posted yet
    posting.cancel()  # the client gives up; Slack does not
    with pytest.raises(asyncio.CancelledError):
        await posting
    await wait_until(lambda: fake_slack.messages(OPS_CHANNEL))


# -- modals --------------------------------------------------------------------------------


async def test_trigger_ids_expire_and_are_single_use() -> None:
    clock = ManualClock()
    async with FakeSlack(clock=clock) as slack:
        client = web_client(slack)
        trigger = slack.issue_trigger_id(ALICE)
        opened = await client.views_open(trigger_id=trigger, view=modal())
        assert slack.open_modal(ALICE) == slack.views[opened["view"]["id"]]

        failure = await slack_error(client.views_open(trigger_id=trigger, view=modal()))
        assert failure.response["error"] == "exchanged_trigger_id"
        failure = await slack_error(client.views_open(trigger_id="1.2.unknown", view=modal()))
        assert failure.response["error"] == "invalid_trigger_id"
        late = slack.issue_trigger_id(ALICE)
        clock.now += 3.5
        failure = await slack_error(client.views_open(trigger_id=late, view=modal()))
        assert failure.response["error"] == "expired_trigger_id"


async def test_views_are_validated_stacked_and_updated(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    failure = await slack_error(
        client.views_open(trigger_id=fake_slack.issue_trigger_id(ALICE), view=modal("x" * 25))
    )
    assert failure.response["error"] == "invalid_arguments"
    assert failure.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert fake_slack.violations and fake_slack.open_modal(ALICE) is None

    root = await client.views_open(trigger_id=fake_slack.issue_trigger_id(ALICE), view=modal())
    for _ in range(2):
        await client.views_push(trigger_id=fake_slack.issue_trigger_id(ALICE), view=modal("Next"))
    failure = await slack_error(
        client.views_push(trigger_id=fake_slack.issue_trigger_id(ALICE), view=modal("Too deep"))
    )
    assert failure.response["error"] == "push_limit_reached"

    top = fake_slack.open_modal(ALICE)
    assert top is not None and len(fake_slack.modal_stack(ALICE)) == 3
    read_hash = top.payload["hash"]
    updated = await client.views_update(view_id=top.id, view=modal("Updated"), hash=read_hash)
    assert (fake_slack.views[top.id].title, updated["view"]["root_view_id"]) == (
        "Updated",
        root["view"]["id"],
    )
    # The view changed after `read_hash` was read: Slack refuses to overwrite it.
    failure = await slack_error(client.views_update(view_id=top.id, view=modal(), hash=read_hash))
    assert failure.response["error"] == "hash_conflict"


# -- response_urls -------------------------------------------------------------------------


async def test_response_urls(fake_slack: FakeSlack) -> None:
    client = web_client(fake_slack)
    blocks = [section("Run failed"), actions(button("Retrigger", "retrigger"))]
    posted = await client.chat_postMessage(channel=ALERTS_CHANNEL, text="Run failed", blocks=blocks)
    alert = fake_slack.message(ALERTS_CHANNEL, posted["ts"])
    url = fake_slack.issue_response_url(channel_id=ALERTS_CHANNEL, user_id=ALICE, original=alert)
    webhook = AsyncWebhookClient(url)

    assert (await webhook.send(text="Only you can see this")).status_code == 200
    assert [e.text for e in fake_slack.ephemerals(user=ALICE)] == ["Only you can see this"]
    await webhook.send(text="Retriggered by Alice", replace_original=True)
    assert rendered_text(fake_slack.message(ALERTS_CHANNEL, posted["ts"])) == "Retriggered by Alice"
    await webhook.send_dict({"text": "Shared", "response_type": "in_channel"})
    assert fake_slack.messages(ALERTS_CHANNEL)[-1].text == "Shared"

    rejected = await webhook.send(text="x", blocks=[section("y" * 3001)])
    assert rejected.status_code == 400 and fake_slack.violations
    await webhook.send(text="", delete_original=True)
    assert [m.text for m in fake_slack.messages(ALERTS_CHANNEL)] == ["Shared"]
    # Five uses are allowed; the rejected one counted too.
    spent = await webhook.send(text="a sixth time")
    assert (spent.status_code, json.loads(spent.body)["error"]) == (404, "used_url")


# -- payloads as Slack shapes them --------------------------------------------------------


async def test_interaction_payloads_have_slacks_shape(fake_slack: FakeSlack) -> None:
    form = payloads.slash_command_form(
        fake_slack,
        command="/runs",
        text="failed",
        user_id=ALICE,
        channel_id=OPS_CHANNEL,
        trigger_id="1.2.3",
        response_url="http://127.0.0.1/response/x",
    )
    # The fields of the slash command body in bolt-python's scenario tests.
    assert {"team_id", "channel_id", "user_id", "command", "text", "response_url"} <= set(form)
    assert (form["channel_name"], form["user_name"], form["trigger_id"]) == (
        "ops",
        "alice",
        "1.2.3",
    )

    picker = {**select("Failed", "failed"), "action_id": "status"}
    view = modal(
        blocks=[
            modal()["blocks"][0],
            {
                "type": "input",
                "block_id": "status_block",
                "label": plain("Status"),
                "element": picker,
            },
        ]
    )
    opened = await web_client(fake_slack).views_open(
        trigger_id=fake_slack.issue_trigger_id(ALICE), view=view
    )
    stored = fake_slack.views[opened["view"]["id"]]
    values = {"note_block": {"note_input": "on it"}, "status_block": {"status": "failed"}}
    assert payloads.state_values(stored, values) == {
        "note_block": {"note_input": {"type": "plain_text_input", "value": "on it"}},
        "status_block": {
            "status": {"type": "static_select", "selected_option": picker["options"][0]}
        },
    }
    action = payloads.action_of(picker, "status_block", "failed")
    assert (action["type"], action["selected_option"]["value"]) == ("static_select", "failed")
    with pytest.raises(LookupError):  # nobody can pick an option the menu does not offer
        payloads.action_of(picker, "status_block", "finished")


# -- Socket Mode with slack_sdk's own client -----------------------------------------------


async def test_socket_mode_client_connects_pings_acks_and_reconnects(fake_slack: FakeSlack) -> None:
    client = SocketModeClient(
        app_token=fake_slack.app_token,
        web_client=AsyncWebClient(base_url=fake_slack.api_url),
        ping_interval=0.1,
    )
    received: list[SocketModeRequest] = []

    async def on_request(sm_client: Any, request: SocketModeRequest) -> None:
        received.append(request)
        ack = SocketModeResponse(envelope_id=request.envelope_id, payload={"text": "pong"})
        await sm_client.send_socket_mode_response(ack)

    client.socket_mode_request_listeners.append(on_request)
    try:
        await client.connect()
        await fake_slack.wait_for_socket()
        opened_with = fake_slack.calls_to("apps.connections.open")[0].token
        assert opened_with == fake_slack.app_token
        payload = {"command": "/runs", "text": "ping"}
        ack = await fake_slack.send_envelope(
            "slash_commands", payload, accepts_response_payload=True
        )
        assert ack == {"text": "pong"}
        assert (received[0].type, received[0].payload) == ("slash_commands", payload)

        # The client's keep-alive pings get their pongs, so it never calls the link stale.
        await wait_until(lambda: fake_slack.socket_pings >= 3, message="too few pings")
        assert fake_slack.socket_connects == 1

        await fake_slack.request_reconnect()
        await fake_slack.wait_for_socket(connects=2)
        await fake_slack.drop_sockets()
        await fake_slack.wait_for_socket(connects=3)
        assert await fake_slack.send_envelope("events_api", {"type": "event_callback"}) == {
            "text": "pong"
        }
    finally:
        await client.close()
    await wait_until(lambda: fake_slack.socket_connections == 0, message="a socket is still open")
    with pytest.raises(AckTimeout):
        await fake_slack.send_envelope("events_api", {}, timeout=0.05)


# -- a real Bolt app, over HTTP and over Socket Mode ---------------------------------------


class BoltHarness:
    """A tiny Bolt app with one listener of each kind, remembering what they received."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.events: list[JsonDict] = []
        self.shortcuts: list[JsonDict] = []
        self.app = AsyncApp(
            client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
            signing_secret=slack.signing_secret,
        )
        self.app.command("/runs")(self.on_runs)
        self.app.action("retrigger")(self.on_retrigger)
        self.app.action("details")(self.on_details)
        self.app.view("note_submit")(self.on_note)
        self.app.event("message")(self.on_message)
        self.app.shortcut("retrigger_shortcut")(self.on_shortcut)

    async def on_runs(self, ack: AsyncAck) -> None:
        await ack("hi")

    async def on_retrigger(self, ack: AsyncAck, body: JsonDict, respond: AsyncRespond) -> None:
        await ack()
        await respond(text=f"Retriggered by <@{body['user']['id']}>", replace_original=True)

    async def on_details(self, ack: AsyncAck, body: JsonDict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=modal())

    async def on_note(self, ack: AsyncAck, view: JsonDict) -> None:
        if not view["state"]["values"]["note_block"]["note_input"]["value"]:
            await ack(response_action="errors", errors={"note_block": "Write something"})
        else:
            await ack()

    async def on_message(self, event: JsonDict) -> None:
        self.events.append(event)

    async def on_shortcut(self, ack: AsyncAck, shortcut: JsonDict) -> None:
        await ack()
        self.shortcuts.append(shortcut)

    async def post_alert(self) -> Message:
        blocks = [
            section("*HubSpot → Salesforce* failed"),
            actions(button("Retrigger", "retrigger", "run_1"), button("Details", "details")),
        ]
        posted = await self.app.client.chat_postMessage(
            channel=ALERTS_CHANNEL, text="Run failed", blocks=blocks
        )
        return self.slack.message(ALERTS_CHANNEL, posted["ts"])


@dataclass
class BoltOverHttp:
    harness: BoltHarness
    driver: SlackDriver
    events_url: str


@pytest_asyncio.fixture
async def bolt_http(fake_slack: FakeSlack) -> AsyncIterator[BoltOverHttp]:
    """The harness app served at `POST /slack/events` on 127.0.0.1, and a driver for it."""
    harness = BoltHarness(fake_slack)

    async def events(request: web.Request) -> web.Response:
        bolt_response = await harness.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    events_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    try:
        async with SlackDriver.http(events_url, fake_slack) as driver:
            yield BoltOverHttp(harness, driver, events_url)
    finally:
        await runner.cleanup()


async def test_http_slash_command_answer_is_shown_to_the_asker(
    bolt_http: BoltOverHttp, fake_slack: FakeSlack
) -> None:
    ack = await bolt_http.driver.slash_command(
        "failed today", user_id=ALICE, channel_id=OPS_CHANNEL
    )
    assert (ack.status, ack.text) == (200, "hi")
    assert [(e.user, e.text, e.source) for e in fake_slack.ephemerals()] == [(ALICE, "hi", "ack")]
    assert fake_slack.calls_to("auth.test")  # Bolt checked its token against the fake
    fake_slack.assert_no_violations()


async def test_http_button_click_and_respond(
    bolt_http: BoltOverHttp, fake_slack: FakeSlack
) -> None:
    alert = await bolt_http.harness.post_alert()
    ack = await bolt_http.driver.block_action("retrigger", user_id=BOB, message=alert)
    assert (ack.status, ack.body) == (200, "")
    await wait_until(
        lambda: fake_slack.message(ALERTS_CHANNEL, alert.ts).text == f"Retriggered by <@{BOB}>"
    )
    (respond_call,) = fake_slack.calls_to("response_url")
    assert respond_call.params["replace_original"] is True
    with pytest.raises(LookupError):  # the button was replaced away
        await bolt_http.driver.block_action("retrigger", user_id=BOB, message=alert)
    fake_slack.assert_no_violations()


async def test_http_modal_shows_errors_then_closes(
    bolt_http: BoltOverHttp, fake_slack: FakeSlack
) -> None:
    alert = await bolt_http.harness.post_alert()
    await bolt_http.driver.block_action("details", user_id=ALICE, message=alert)
    note_modal = await wait_until(lambda: fake_slack.open_modal(ALICE))

    ack = await bolt_http.driver.view_submission(
        note_modal, {"note_block": {"note_input": ""}}, user_id=ALICE
    )
    assert ack.payload == {"response_action": "errors", "errors": {"note_block": "Write something"}}
    assert fake_slack.views[note_modal.id].errors == {"note_block": "Write something"}
    assert fake_slack.open_modal(ALICE) == note_modal

    ack = await bolt_http.driver.view_submission(
        note_modal, {"note_block": {"note_input": "on it"}}, user_id=ALICE
    )
    assert ack.status == 200 and fake_slack.open_modal(ALICE) is None
    fake_slack.assert_no_violations()


async def test_http_events_and_shortcuts(bolt_http: BoltOverHttp, fake_slack: FakeSlack) -> None:
    harness, driver = bolt_http.harness, bolt_http.driver
    alert = await harness.post_alert()
    reply, ack = await driver.user_posts(ALERTS_CHANNEL, CAROL, "looking", thread_ts=alert.ts)
    assert ack.status == 200
    await driver.user_edits(reply, "looking now")
    await driver.user_deletes(reply)
    await wait_until(lambda: len(harness.events) == 3)
    assert [e.get("subtype") for e in harness.events] == [
        None,
        "message_changed",
        "message_deleted",
    ]
    assert (harness.events[0]["thread_ts"], harness.events[0]["parent_user_id"]) == (
        alert.ts,
        fake_slack.bot_user_id,
    )
    assert harness.events[1]["message"]["text"] == "looking now"

    await driver.message_shortcut("retrigger_shortcut", alert, user_id=ALICE)
    await wait_until(lambda: harness.shortcuts)
    assert harness.shortcuts[0]["message"]["ts"] == alert.ts


async def test_http_requests_are_signed(bolt_http: BoltOverHttp, fake_slack: FakeSlack) -> None:
    forged = SlackDriver.http(bolt_http.events_url, fake_slack, signing_secret="not-the-secret")
    async with forged:
        ack = await forged.slash_command("failed", user_id=ALICE, channel_id=OPS_CHANNEL)
    assert ack.status == 401
    assert fake_slack.ephemerals() == []


async def test_bolt_over_socket_mode(fake_slack: FakeSlack) -> None:
    harness = BoltHarness(fake_slack)
    handler = AsyncSocketModeHandler(harness.app, app_token=fake_slack.app_token)
    try:
        await handler.connect_async()
        await fake_slack.wait_for_socket()
        async with SlackDriver.socket(fake_slack) as driver:
            ack = await driver.slash_command("failed", user_id=ALICE, channel_id=OPS_CHANNEL)
            assert ack.payload == {"text": "hi"}
            assert [e.text for e in fake_slack.ephemerals(user=ALICE)] == ["hi"]

            alert = await harness.post_alert()
            await driver.block_action("details", user_id=ALICE, message=alert)
            note_modal = await wait_until(lambda: fake_slack.open_modal(ALICE))
            ack = await driver.view_submission(
                note_modal, {"note_block": {"note_input": ""}}, user_id=ALICE
            )
            errors = {"note_block": "Write something"}
            assert ack.payload == {"response_action": "errors", "errors": errors}

            await driver.user_posts(ALERTS_CHANNEL, ALICE, "hello")
            await wait_until(lambda: harness.events)
    finally:
        await handler.close_async()
    fake_slack.assert_no_violations()
