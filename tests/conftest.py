"""Shared fixtures: a clean environment, real databases (a SQLite file and a real
PostgreSQL server), the run store on each, and the run API served over HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Settings
from bot.web import create_web_app
from store.run_store import RunStore
from tests.support.postgres import PostgresServer, start_postgres

API_TOKEN = "test-api-token"

# The fake Slack's fixtures (fake_slack, fake_slack_server), the fake engine's (fake_engine,
# fake_engine_server), and more runs than the store counts exactly (many_runs), for every folder.
pytest_plugins = [
    "tests.fake_slack.fixtures",
    "tests.fake_engine.fixtures",
    "tests.support.many_runs",
]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SLACK_* or RUNSBOT_* from the developer's shell, and no stray .env file."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "RUNSBOT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    server = start_postgres(tmp_path_factory.mktemp("postgres"))
    yield server
    server.stop()


def _migrate(url: str) -> None:
    """Migrate outside the test loop: these fixtures are synchronous."""

    async def upgrade() -> None:
        store = RunStore.open(url)
        await store.upgrade()
        await store.close()

    asyncio.run(upgrade())


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer) -> str:
    """A migrated database that each test's database is copied from."""
    name = "runsbot_template"
    _migrate(postgres.create_database(name))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    return path


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def fresh_database_url(request: pytest.FixtureRequest, folder: Path, sqlite_template: Path) -> str:
    """A fresh, migrated database of the kind `request.param` names: a SQLite file in
    `folder`, or a database on the real PostgreSQL server."""
    if request.param == "sqlite":
        path = folder / "runs.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres")
    template = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    # FILE_COPY: about half the time of the default WAL_LOG for a small template (PG 15).
    server.psql(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
    return server.url_for(name)


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated database: a SQLite file, or a database on the real PostgreSQL server."""
    return fresh_database_url(request, tmp_path, sqlite_template)


@pytest.fixture(scope="module", params=DATABASES)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> str:
    """One database of each kind for a whole module: for tests that only read it."""
    return fresh_database_url(request, tmp_path_factory.mktemp("module"), sqlite_template)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[RunStore]:
    run_store = RunStore.open(database_url)
    await run_store.upgrade()
    yield run_store
    await run_store.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(RUNSBOT_DATABASE_URL=database_url, RUNSBOT_API_TOKEN=API_TOKEN)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[TestClient[object, object]]:
    """The real web app over real HTTP on 127.0.0.1, with the engine's bearer token."""
    run_store = RunStore.open(settings.database_url)
    await run_store.upgrade()
    app = create_web_app(settings, run_store)
    client: TestClient[object, object] = TestClient(
        TestServer(app, host="127.0.0.1", port=0),
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    await client.start_server()
    yield client
    await client.close()
