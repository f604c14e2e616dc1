"""Every events/*.json is a valid HTTP API v2 event its function answers (as `sam local invoke` would)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack.lambdas import Containers, LambdaContext, load_module
from tests.support.sample_events import EXPECTED, REPORTS
from tests.support.stack import Stack

EVENTS = sorted(p for p in (Path(__file__).resolve().parents[2] / "events").glob("*.json") if p.stem != "env.example")


def test_every_function_has_an_event():
    assert {p.stem for p in EVENTS} >= {fn.name for fn in Containers().functions.values()}


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
def test_event_runs_through_its_handler(stack: Stack, path: Path, reconfigure):
    reconfigure(ALLOWED_ORIGINS="http://127.0.0.1:5173,http://localhost:5173")
    event = json.loads(path.read_text())
    fn = Containers().by_name(path.stem)
    handler = load_module(fn).lambda_handler

    response = handler(event, LambdaContext(fn.logical_id, fn.timeout))

    if fn.schedule:  # an EventBridge-scheduled function answers with its batch report
        report = {"refresh_scheduler": {"refreshed", "skipped", "reauth_required", "failed"}}
        assert report.get(path.stem, {"webhooks", "published", "duplicate", "skipped", "failed"}) <= set(response)
        return
    if path.stem in REPORTS:  # an EventBridge rule's target answers with its report
        assert response == REPORTS[path.stem]
        return
    assert response["statusCode"] == EXPECTED[path.stem]  # every event's answer is fixed here: a new one must say
    if response["statusCode"] >= 400:
        assert set(json.loads(response["body"])) == {"error", "message"}
