"""The `runsbot` command as an operator uses it, in a time zone far from UTC."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import wcwidth
from alembic.script import ScriptDirectory

from bot.cli import shown_database
from store.database import SchemaUpgrade, alembic_config, create_engine, upgrade
from store.reports import RunReport
from store.run_store import RunStore
from tests.fake_slack import ALERTS_CHANNEL, FakeSlack, rendered_text, wait_until
from tests.support.cli import run_cli
from tests.support.many_runs import FAILED_EVERY, MANY, ManyRuns
from tests.support.postgres import PostgresServer
from tests.support.process import RUNSBOT, serve_env, start_serve

MIGRATIONS = ScriptDirectory.from_config(alembic_config())
HEAD = MIGRATIONS.get_current_head()

REPORT = {
    "id": "run_cli1",
    "workflow": {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"},
    "reference": "Müller GmbH — Renewal 2027",
    "status": "failed",
    "started_at": "2026-11-20T10:02:03Z",
    "error": {"message": "401 Unauthorized: token expired", "step": "Create opportunity"},
}


def runsbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real `runsbot` script, as an operator starts it. The tests of what a command says
    use `run_cli`: a fresh process too, forked without importing runsbot again each time."""
    return subprocess.run(
        [RUNSBOT, *args], env=serve_env(env), cwd=cwd, capture_output=True, text=True, timeout=60
    )


async def test_serve_runs_the_api_without_slack_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    env = {
        "RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/runs.db",
        "RUNSBOT_API_TOKEN": "tok",
    }
    serve = start_serve(env, tmp_path)
    try:
        serve.wait_for_line(r"Slack is off: set SLACK_BOT_TOKEN")
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer tok"}) as http:
            async with http.post(f"{serve.url}/api/v1/runs", json=REPORT) as response:
                assert response.status == 201
            async with http.get(f"{serve.url}/healthz") as response:
                assert response.status == 200
    finally:
        code = serve.stop(signal.SIGTERM)
    assert code == 0
    assert not any("Traceback" in line for line in serve.lines)
    assert not any("tok" in line.split("Bearer")[-1] and "Bearer" in line for line in serve.lines)

    listed = runsbot("runs", "failed", "müller", "--tz", "Asia/Kolkata", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, row, *rest = listed.stdout.splitlines()
    assert header.split()[:3] == ["STATUS", "STARTED", "WORKFLOW"]
    assert "2026-11-20 15:32" in row  # 10:02:03Z in India
    assert "HubSpot → Salesforce" in row and "run_cli1" in row
    assert rest[-1] == "1 of 1 runs"


async def test_serve_in_socket_mode_alerts_over_the_configured_api_url_and_stops_on_sigterm(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = {
        "RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/runs.db",
        "RUNSBOT_API_TOKEN": "tok",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_APP_TOKEN": fake_slack.app_token,
        "SLACK_API_URL": fake_slack.api_url,
        "RUNSBOT_ALERT_CHANNEL": ALERTS_CHANNEL,
    }
    # In a thread: it connects to the fake Slack, which answers on this event loop.
    serve = await asyncio.to_thread(start_serve, env, tmp_path)
    try:
        await fake_slack.wait_for_socket(timeout=15)
        (opened,) = fake_slack.calls_to("apps.connections.open")
        assert opened.token == fake_slack.app_token
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer tok"}) as http:
            async with http.post(f"{serve.url}/api/v1/runs", json=REPORT) as response:
                assert response.status == 201
        (alert,) = await wait_until(lambda: fake_slack.messages(ALERTS_CHANNEL), timeout=15)
        assert "run_cli1" in rendered_text(alert)
    finally:
        code = serve.stop(signal.SIGTERM)
    assert code == 0
    assert any("Slack is on (socket mode)" in line for line in serve.lines)
    secrets = (fake_slack.bot_token, fake_slack.app_token)
    assert not [line for line in serve.lines if any(secret in line for secret in secrets)]
    assert not [line for line in serve.lines if "Traceback" in line or "ERROR" in line]
    assert not [line for line in serve.lines if "WARNING" in line]  # nothing to act on
    fake_slack.assert_no_violations()


def test_runs_explains_words_it_cannot_read(tmp_path: Path) -> None:
    env = {"RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/runs.db"}
    result = run_cli("runs", "since:someday", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "since:" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--limit", "0"], "--limit"),
        (["--limit", "-1"], "--limit"),
        (["--tz", "Nowhere/Zone"], "--tz"),
    ],
)
def test_runs_explains_options_it_cannot_read(tmp_path: Path, args: list[str], named: str) -> None:
    env = {"RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/runs.db"}
    result = run_cli("runs", "failed", *args, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert f"argument {named}:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"RUNSBOT_PORT": "abc"}, "RUNSBOT_PORT"),
        ({"RUNSBOT_DATABASE_URL": "mysql://x"}, "RUNSBOT_DATABASE_URL"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({"RUNSBOT_ALERT_CHANNEL": "#alerts"}, "RUNSBOT_ALERT_CHANNEL"),
        ({"RUNSBOT_DATABASE_URL": "sqlite+aiosqlite://"}, "RUNSBOT_DATABASE_URL"),  # in memory
        (
            {
                "SLACK_API_URL": "http://proxy:pw-xoxb-1@127.0.0.1:9/api/",
                "SLACK_BOT_TOKEN": "xoxb-1",
            },
            "SLACK_API_URL",
        ),
        (
            {"RUNSBOT_DATABASE_URL": "postgresql+asyncpg://u:pw-xoxb-1@127.0.0.1:nan/db"},
            "RUNSBOT_DATABASE_URL",
        ),
        # Well formed, but it cannot be opened: no such folder; nothing listening.
        ({"RUNSBOT_DATABASE_URL": "sqlite+aiosqlite:////no/such/dir/runs.db"}, "cannot be opened"),
        (
            {"RUNSBOT_DATABASE_URL": "postgresql+asyncpg://u:pw-xoxb-1@127.0.0.1:1/db"},
            "RUNSBOT_DATABASE_URL postgresql+asyncpg://u:***@127.0.0.1:1/db cannot be opened",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], result.stderr
    assert "xoxb-1" not in result.stderr


def test_an_address_in_use_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runsbot("serve", env={"RUNSBOT_PORT": str(port)}, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"RUNSBOT_HOST and RUNSBOT_PORT: cannot listen on 127.0.0.1:{port}" in line


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    env = {"RUNSBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/fresh.db"}
    result = runsbot("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "fresh.db").exists()
    assert result.stdout == f"schema created at revision {HEAD}\n"
    assert result.stderr == f"database: sqlite+aiosqlite:///{tmp_path}/fresh.db\n"
    again = runsbot("db", "upgrade", env=env, cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout == f"schema is current at revision {HEAD}\n"


async def test_db_upgrade_migrates_a_schema_at_an_older_revision(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    older = MIGRATIONS.get_revision(HEAD).down_revision
    assert isinstance(older, str)
    engine = create_engine(url)
    assert await upgrade(engine, older) == SchemaUpgrade(before=None, after=older)
    await engine.dispose()
    result = run_cli("db", "upgrade", env={"RUNSBOT_DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"schema migrated from revision {older} to {HEAD}\n"


@pytest.mark.postgres
def test_db_upgrade_names_the_database_with_its_password_hidden(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    # The test server trusts every local connection, so any password is let in.
    plain = postgres.create_database()
    url = plain.replace(f"{postgres.user}@", f"{postgres.user}:pw-s3cret@")
    result = run_cli("db", "upgrade", env={"RUNSBOT_DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"database: {plain.replace('@', ':***@')}\n"
    assert result.stdout == f"schema created at revision {HEAD}\n"
    assert "pw-s3cret" not in result.stdout + result.stderr


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("RUNSBOT_ALERT_CHANNEL=alerts\n")
    result = run_cli("serve", env={}, cwd=tmp_path)
    assert result.returncode == 2 and "RUNSBOT_ALERT_CHANNEL" in result.stderr


async def stored(url: str, *reports: dict[str, Any]) -> None:
    """The reports, stored as the API stores them."""
    store = RunStore.open(url)
    await store.upgrade()
    outcomes = await store.report_runs([RunReport.model_validate(report) for report in reports])
    await store.close()
    assert [outcome.error for outcome in outcomes] == [None] * len(reports)


def finished(run_id: str, reference: str, started_at: str, **workflow: str) -> dict[str, Any]:
    return {
        "id": run_id,
        "workflow": {**REPORT["workflow"], **workflow},
        "reference": reference,
        "status": "finished",
        "started_at": started_at,
    }


def columns(line: str) -> list[tuple[int, str]]:
    """Each cell of a table line with the terminal column it starts at."""
    cells, at = [], 0
    for cell in re.split(r" {2,}", line):
        at = line.index(cell, at)
        cells.append((wcwidth.width(line[:at]), cell))
        at += len(cell)
    return cells


REFERENCES = {
    "run_cjk": "株式会社トヨタ自動車 — 更新 2027",
    "run_emoji": "🚀 Launch ✅ done 👩‍💻 🇫🇷",
    "run_long": "Société Générale — " + "renewal of the enterprise plan " * 4,
    "run_long_cjk": "日本語のテキスト" * 8,
    "run_control": "Evil\x1b[2J\x07 Corp",
}


async def test_the_runs_table_stays_aligned_with_cjk_emoji_and_long_text(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/runs.db"
    await stored(
        url,
        *(
            finished(run_id, reference, f"2026-11-20T10:0{minute}:00Z")
            for minute, (run_id, reference) in enumerate(REFERENCES.items())
        ),
        finished(
            "run_wide_workflow",
            "Order 1",
            "2026-11-20T09:00:00Z",
            id="kintone-freee",
            source="kintone 顧客",
            destination="freee 会計",
        ),
    )
    env = {"RUNSBOT_DATABASE_URL": url}
    listed = run_cli("runs", "--tz", "Asia/Tokyo", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()[: len(REFERENCES) + 2]
    assert listed.stdout.splitlines()[len(REFERENCES) + 2 :] == [
        "times in Asia/Tokyo",
        f"{len(REFERENCES) + 1} of {len(REFERENCES) + 1} runs",
    ]
    starts = [start for start, _ in columns(header)]
    assert [cell for _, cell in columns(header)] == [
        "STATUS", "STARTED", "WORKFLOW", "REFERENCE", "RUN ID", "NOTES"
    ]  # fmt: skip
    shown = {}
    for row in rows:
        cells = columns(row)
        assert [start for start, _ in cells] == starts, row
        assert cells[1][1].startswith("2026-11-20 1") and cells[5][1] == "0"
        shown[cells[4][1]] = cells[3][1]
    assert shown["run_wide_workflow"] == "Order 1"
    assert any(cell == "kintone 顧客 → freee 会計" for row in rows for _, cell in columns(row))
    for run_id in ("run_cjk", "run_emoji"):
        assert shown[run_id] == REFERENCES[run_id]  # whole: within 40 columns
    for run_id in ("run_long", "run_long_cjk"):
        cut = shown[run_id]
        assert cut.endswith("…") and REFERENCES[run_id].startswith(cut[:-1]), cut
        assert 38 <= wcwidth.width(cut) <= 40  # cut by columns, not characters
    assert shown["run_control"] == "Evil [2J Corp"  # nothing reaches the terminal as a control
    assert "\x1b" not in listed.stdout


async def test_runs_shows_times_in_the_machines_zone_by_name_with_its_daylight_saving(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/runs.db"
    await stored(
        url,
        finished("run_summer", "July deal", "2026-07-01T10:00:00Z"),
        finished("run_winter", "January deal", "2026-01-15T10:00:00Z"),
    )
    env = {"RUNSBOT_DATABASE_URL": url, "TZ": "Europe/Paris"}
    listed = run_cli("runs", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    _, summer, winter, zone, _ = listed.stdout.splitlines()
    assert "2026-07-01 12:00" in summer and "run_summer" in summer  # CEST, UTC+2
    assert "2026-01-15 11:00" in winter and "run_winter" in winter  # CET, UTC+1
    assert zone == "times in Europe/Paris"


async def test_demo_data_and_runs_name_the_database_they_used(tmp_path: Path) -> None:
    env = {"RUNSBOT_DATABASE_URL": "sqlite+aiosqlite:///runs.db"}  # relative to where it runs
    said = f"database: sqlite+aiosqlite:///runs.db ({(tmp_path / 'runs.db').resolve()})"
    made = runsbot("demo-data", "--runs", "30", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"made 30 runs in \d+\.\d s\n", made.stdout)
    assert made.stderr == said + "\n"
    listed = runsbot("runs", "--limit", "5", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == said + "\n"
    assert listed.stdout.splitlines()[0].split()[:2] == ["STATUS", "STARTED"]
    assert "database" not in listed.stdout  # the table stays parseable


def test_a_database_is_shown_with_its_password_hidden() -> None:
    shown = shown_database("postgresql+asyncpg://runsbot:pw-s3cret@db.internal:5432/runs")
    assert shown == "postgresql+asyncpg://runsbot:***@db.internal:5432/runs"


@pytest.mark.parametrize("many_runs", ["sqlite"], indirect=True)
def test_runs_shows_a_total_that_stopped_counting_as_a_lower_bound(
    many_runs: ManyRuns, tmp_path: Path
) -> None:
    env = {"RUNSBOT_DATABASE_URL": many_runs.url}
    first = run_cli("runs", "--limit", "3", "--tz", "UTC", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    *_, total, next_page = first.stdout.splitlines()
    assert total == "3 of 1,000+ runs"
    cursor = next_page.removeprefix("next page: --cursor ")
    second = run_cli("runs", "--limit", "3", "--cursor", cursor, env=env, cwd=tmp_path)
    assert second.stdout.splitlines()[-2] == "3 of 1,000+ runs", second.stderr
    exact = run_cli("runs", "failed", "--limit", "3", env=env, cwd=tmp_path)
    assert exact.stdout.splitlines()[-2] == f"3 of {MANY // FAILED_EVERY} runs", exact.stderr
