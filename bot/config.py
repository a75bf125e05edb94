"""Settings from the environment (and `.env`), read once, typed, and secret-safe."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from store.ids import is_channel_id, is_user_or_group_id


class SlackMode(StrEnum):
    OFF = "off"
    HTTP = "http"
    SOCKET = "socket"


class ConfigError(Exception):
    """A setting is missing or malformed; the message is the one line to print."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
    )

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    database_url: str = Field("sqlite+aiosqlite:///runs.db", alias="RUNSBOT_DATABASE_URL")
    host: str = Field("0.0.0.0", alias="RUNSBOT_HOST")
    port: int = Field(3000, ge=0, le=65535, alias="RUNSBOT_PORT")
    api_token: SecretStr | None = Field(None, alias="RUNSBOT_API_TOKEN")
    alert_channel: str | None = Field(None, alias="RUNSBOT_ALERT_CHANNEL")
    trigger_url: str | None = Field(None, alias="RUNSBOT_TRIGGER_URL")
    trigger_secret: SecretStr | None = Field(None, alias="RUNSBOT_TRIGGER_SECRET")
    retrigger_rate: float = Field(5.0, gt=0, le=1000, alias="RUNSBOT_RETRIGGER_RATE")
    retrigger_users: Annotated[tuple[str, ...], NoDecode] = Field(
        (), alias="RUNSBOT_RETRIGGER_USERS"
    )

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("should be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("should be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url", "trigger_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("should be an http:// or https:// URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, value: str) -> str:
        # slack_sdk refuses credentials in the URL beside its token header; they would also
        # be logged with the URL.
        if urlsplit(value).username is not None:
            raise ValueError("should not carry a user or password: use a proxy that needs none")
        # slack_sdk joins base_url and method name as plain strings.
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        expected = "should be sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(expected)
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):  # e.g. a port that is not a number
            raise ValueError(f"{expected}, with a port number if any") from None
        if not url.database or url.database == ":memory:":
            # A server's store must outlive the process.
            raise ValueError(f"{expected}: name the database file (or database)")
        return value

    @field_validator("alert_channel")
    @classmethod
    def _channel_id(cls, value: str | None) -> str | None:
        if value is not None and not is_channel_id(value):
            raise ValueError("should be a Slack channel ID like C0123456789, not a channel name")
        return value

    @field_validator("retrigger_users", mode="before")
    @classmethod
    def _id_list(cls, value: object) -> object:
        if isinstance(value, str):
            ids = tuple(part.strip() for part in value.split(",") if part.strip())
            wrong = [part for part in ids if not is_user_or_group_id(part)]
            if wrong:
                raise ValueError(
                    f"should be comma-separated Slack user IDs (U…) and user group IDs (S…), "
                    f"not {', '.join(wrong)}"
                )
            return ids
        return value

    @model_validator(mode="after")
    def _slack_complete(self) -> Settings:
        if self.slack_mode is SlackMode.OFF:
            return self
        if self.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is missing: Slack needs the bot token (xoxb-…)")
        if self.slack_mode is SlackMode.HTTP and self.slack_signing_secret is None:
            raise ValueError(
                "SLACK_SIGNING_SECRET is missing: HTTP mode needs the app's signing secret "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )
        return self

    @property
    def slack_mode(self) -> SlackMode:
        if self.slack_app_token is not None:
            return SlackMode.SOCKET
        if self.slack_bot_token is not None or self.slack_signing_secret is not None:
            return SlackMode.HTTP
        return SlackMode.OFF


def load_settings() -> Settings:
    """Settings from the environment; raises ConfigError with one line naming the variable."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(describe(error)) from None


def describe(error: ValidationError) -> str:
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:
        return message
    name = str(first["loc"][0])
    field = Settings.model_fields.get(name)
    variable = field.alias if field is not None and field.alias else name.upper()
    return f"{variable} {message}" if message.startswith("should") else f"{variable}: {message}"
