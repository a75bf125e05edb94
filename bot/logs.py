"""Logging for the runsbot process, with secrets masked on the way out."""

from __future__ import annotations

import logging
import re
import time

# Slack tokens, bearer credentials and signatures, wherever a library logs them.
_SECRET = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|(?i:bearer)\s+[^\s\"',]+|v[01]=[0-9a-f]{16,})"
)
# What Slack's requests carry that acts on its behalf (Bolt logs a refused request's body):
# the verification token, and the response_url and trigger_id that let anyone answer.
_SLACK_FIELD = re.compile(
    r"""((?:token|response_url|trigger_id)(?:=|%22%3A%22|["']\s*:\s*["']))[^&\s"']+"""
)


# Library messages about how runsbot is wired, with nothing for an operator to do.
_EXPECTED = {
    # Bolt reads SLACK_BOT_TOKEN itself, then warns that the client runsbot gives it wins:
    # that client carries the same token.
    "As you gave `client` as well, `token` will be unused.",
}


def redact(message: str) -> str:
    return _SLACK_FIELD.sub(r"\1[secret]", _SECRET.sub("[secret]", message))


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _unexpected(record: logging.LogRecord) -> bool:
    return record.getMessage() not in _EXPECTED


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(name)s: %(message)s")
    formatter.converter = time.gmtime  # log times in UTC, whatever the server's zone
    handler.setFormatter(formatter)
    handler.addFilter(_unexpected)
    handler.addFilter(RedactSecrets())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Routine chatter of libraries: only their warnings reach the log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
