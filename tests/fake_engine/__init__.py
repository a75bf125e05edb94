"""A fake integration engine for end-to-end tests of retriggers (CONTRACT.md section 5): runsbot
sends signed retrigger requests to its trigger URLs over real HTTP; tests script its answers
and read what it received. Nothing here is shared with the product (its signer included).

    engine = fake_engine                                  # fixture; secret TRIGGER_SECRET
    ...start runsbot with RUNSBOT_TRIGGER_URL=engine.trigger_url,
       RUNSBOT_TRIGGER_SECRET=TRIGGER_SECRET (or a workflow's trigger_url=engine.url_for(id))
    engine.connect(runsbot_base_url, API_TOKEN)           # for report() / auto_report()
    engine.script(engine.trigger_url, [Status(500), Status(503, retry_after=2), Slow(0.5)])
    (sent,) = await engine.wait_for_requests(1)           # then 202s resume
    assert engine.count_by_run_id() == {sent.run_id: 1}   # sent once
    await engine.report(sent.run_id, status="failed", error="still 401")
    engine.assert_no_violations()                         # every signature and body was right

Modules: `server` (FakeEngine: HTTP, scripting, reports), `recording` (what was received and
the questions asked of it), `signing` (the contract's HMAC, written on its own), `shape` (the
body's fields), `faults` (scripted answers), `models`, `reporting` (runsbot's run API), `fixtures`.
"""

from __future__ import annotations

from .faults import Fault, Hang, Slow, Status
from .fixtures import TRIGGER_SECRET
from .models import Received, ReportAnswer, Violation
from .server import FakeEngine
from .signing import MAX_SKEW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers

__all__ = [
    "MAX_SKEW_SECONDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TRIGGER_SECRET",
    "Fault",
    "FakeEngine",
    "Hang",
    "Received",
    "ReportAnswer",
    "Slow",
    "Status",
    "Violation",
    "signed_headers",
]
