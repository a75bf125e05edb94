"""Prometheus metrics, in a registry of the app's own (so tests and replicas don't share one)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reports = Counter(
            "runsbot_reports",
            "Run reports received, by what became of them",
            ["result"],
            registry=self.registry,
        )
        self.requests = Histogram(
            "runsbot_http_request_duration_seconds",
            "HTTP requests served, by route and status",
            ["route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.alerts_queued = Counter(
            "runsbot_alerts_queued",
            "Failures queued for an alert, one per run and channel",
            registry=self.registry,
        )
        self.alerts_posted = Counter(
            "runsbot_alerts_posted",
            "Alert messages and their thread replies that Slack took",
            registry=self.registry,
        )
        self.alerts_retried = Counter(
            "runsbot_alerts_retried",
            "Posts Slack did not take (or did not answer), scheduled to be tried again",
            registry=self.registry,
        )
        self.alerts_given_up = Counter(
            "runsbot_alerts_given_up",
            "Alert updates dropped because Slack says the message or its channel is gone",
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "runsbot_slack_errors",
            "Slack Web API calls that failed, by method and Slack's error code "
            "(http_<status> without one; timeout or connection_error without an answer)",
            ["method", "code"],
            registry=self.registry,
        )
        self.retriggers = Counter(
            "runsbot_retriggers",
            "Retrigger requests sent to the engine, by outcome: accepted (2xx), refused (any "
            "other answer), no_answer (timeout or connection error), given_up (not accepted "
            "within the window)",
            ["result"],
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
