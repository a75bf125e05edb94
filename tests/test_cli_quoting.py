"""`runsbot runs` with quotes that reach it inside one argument, as Slack sends a line.

The shell has already grouped the words: an argument without a quote character is one word
as it is, and one with quotes is read by the same tokenizer as /runs.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from store.reports import RunReport
from store.run_store import RunStore
from tests.support.cli import run_cli

HUBSPOT = {"id": "hubspot-salesforce", "source": "HubSpot", "destination": "Salesforce"}
SHOPIFY = {"id": "shopify-netsuite", "source": "Shopify", "destination": "NetSuite"}
REFERENCES = {
    "run_sg": ("Société Générale — Renewal 2027", HUBSPOT, "failed"),
    "run_mu": ("Müller GmbH", SHOPIFY, "finished"),
    "run_acme": ("ACME Corp upsell", HUBSPOT, "failed"),
    "run_corp": ("Corp of ACME", SHOPIFY, "failed"),
    "run_po": ("PO:4711 for O'Brien", SHOPIFY, "finished"),
    "run_2Q8:retry": ("Batch at 10:30", HUBSPOT, "finished"),
}


@pytest.fixture
async def env(tmp_path: Path) -> dict[str, str]:
    """A SQLite file holding the runs above, reported the hour before now."""
    url = f"sqlite+aiosqlite:///{tmp_path}/runs.db"
    store = RunStore.open(url)
    await store.upgrade()
    now = datetime.now(UTC)
    reports = []
    for minutes, (run_id, (reference, workflow, status)) in enumerate(REFERENCES.items(), 1):
        body: dict[str, Any] = {
            "id": run_id,
            "workflow": workflow,
            "reference": reference,
            "status": status,
            "started_at": (now - timedelta(minutes=minutes)).isoformat(),
        }
        if status == "failed":
            body["error"] = {"message": "401 Unauthorized"}
        reports.append(RunReport.model_validate(body))
    assert all(outcome.error is None for outcome in await store.report_runs(reports))
    await store.close()
    return {"RUNSBOT_DATABASE_URL": url}


def runsbot_runs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`runsbot runs ARGS`, forked from a process that imported runsbot once (see run_cli)."""
    return run_cli("runs", *args, env=env, cwd=Path.cwd())


def listed(result: subprocess.CompletedProcess[str]) -> set[str]:
    assert result.returncode == 0, result.stderr
    return {run_id for run_id in REFERENCES if re.search(rf"(?<!\S){run_id}(?!\S)", result.stdout)}


MATCHES: list[tuple[list[str], set[str]]] = [
    (['ref:"Société Générale"'], {"run_sg"}),
    (['"Müller"'], {"run_mu"}),
    (['wf:"HubSpot → Salesforce"'], {"run_sg", "run_acme", "run_2Q8:retry"}),
    # The same, quoted by the shell: the argument arrives without its quotes.
    (["wf:HubSpot → Salesforce", "failed"], {"run_sg", "run_acme"}),
    # A whole /runs line in one argument, as Slack sends it.
    (['failed wf:"HubSpot → Salesforce" "ACME Corp"'], {"run_acme"}),
    (['"ACME Corp"'], {"run_acme"}),  # a phrase, not two words
    (["ACME", "Corp"], {"run_acme", "run_corp"}),
    (["ACME Corp"], {"run_acme"}),  # the shell kept it one word
    (['"PO:4711"'], {"run_po"}),  # quoted: text with a colon
    (["O'Brien"], {"run_po"}),
    (["‘O'Brien’"], {"run_po"}),
    (["“Société Générale” failed"], {"run_sg"}),
    (["10:30"], {"run_2Q8:retry"}),
    (["run_2Q8:retry"], {"run_2Q8:retry"}),
    (["failed", "last:7d"], {"run_sg", "run_acme", "run_corp"}),
]


@pytest.mark.parametrize(("args", "found"), MATCHES, ids=[" ".join(args) for args, _ in MATCHES])
def test_quoted_values_in_one_argument_match(
    env: dict[str, str], args: list[str], found: set[str]
) -> None:
    assert listed(runsbot_runs(env, *args, "--tz", "Asia/Kolkata")) == found


def example(stderr: str) -> list[str]:
    """The words of the `for example:` line, as the shell would pass them."""
    (line,) = [line for line in stderr.splitlines() if "for example: runsbot runs " in line]
    return shlex.split(line.split("for example: runsbot runs ", 1)[1])


@pytest.mark.parametrize(
    ("args", "shown", "fixed", "found"),
    [
        (['ref:"unclosed'], 'ref:"unclosed', 'ref:"unclosed"', set()),
        (
            ["failed", 'wf:"HubSpot → Salesforce'],
            'wf:"HubSpot',
            'wf:"HubSpot → Salesforce"',
            {"run_sg", "run_acme", "run_2Q8:retry"},
        ),
        (['failed ref:"Société Générale'], 'ref:"Société', 'ref:"Société Générale"', {"run_sg"}),
    ],
)
def test_an_unclosed_quote_is_an_error_that_shows_where(
    env: dict[str, str], args: list[str], shown: str, fixed: str, found: set[str]
) -> None:
    result = runsbot_runs(env, *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == (
        f"runsbot: The quote in `{shown}` is never closed: end the phrase with a quote too."
    )
    assert example(result.stderr) == [fixed]
    assert listed(runsbot_runs(env, *example(result.stderr))) == found


@pytest.mark.parametrize(
    ("word", "closest", "found"),
    [("foo:bar", "on", set()), ("PO:4711", "id", {"run_po"})],
)
def test_an_unknown_key_is_an_error_whose_example_searches_the_text(
    env: dict[str, str], word: str, closest: str, found: set[str]
) -> None:
    result = runsbot_runs(env, word)
    assert (result.returncode, result.stdout) == (2, "")
    first = result.stderr.splitlines()[0]
    key = word.split(":")[0]
    assert first.startswith(f"runsbot: Unknown filter `{key}:` — did you mean `{closest}:`? ")
    assert "Filters are workflow: (or wf:), status:, ref: (or reference:), id:," in first
    assert f'To look for text with a colon, quote it: `"{word}"`.' in first
    assert example(result.stderr) == [f'"{word}"']
    assert listed(runsbot_runs(env, *example(result.stderr))) == found
    assert "Traceback" not in result.stderr


def test_a_misspelled_key_suggests_the_right_one(env: dict[str, str]) -> None:
    result = runsbot_runs(env, 'wf:"HubSpot → Salesforce"', "stauts:failed")
    assert result.returncode == 2
    assert "did you mean `status:`?" in result.stderr
    assert listed(runsbot_runs(env, 'wf:"HubSpot → Salesforce"', *example(result.stderr))) == {
        "run_sg",
        "run_acme",
    }


def next_cursor(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    match = re.search(r"--cursor (\S+)", result.stdout)
    assert match is not None, result.stdout
    return match[1]


def test_a_cursor_goes_on_with_the_same_words_and_is_refused_with_others(
    env: dict[str, str],
) -> None:
    # last:7d is read again, at a later "now", for the second page.
    words = ['failed "ACME"', "last:7d"]
    cursor = next_cursor(runsbot_runs(env, *words, "--limit", "1"))
    second = runsbot_runs(env, *words, "--limit", "1", "--cursor", cursor)
    assert listed(second) == {"run_corp"}
    for other in (['failed "ACME"', "last:6d"], ["finished", "last:7d"], ["failed", "last:7d"]):
        refused = runsbot_runs(env, *other, "--cursor", cursor)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.splitlines() == [
            "runsbot: --cursor is from another search (other statuses, workflow, text or times): "
            "start again without it"
        ]
