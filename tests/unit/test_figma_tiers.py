"""Figma's endpoint tiers: the product's table (figma_auth/figma_tiers.py) and the emulator's
(devstack/figma_api.py) agree, each tier marked confirmed names its source in docs/FIGMA.md, and
a call is classified by its tier and what it spends."""

from __future__ import annotations

import re

import pytest

from devstack import figma_api
from devstack.template import ROOT
from figma_auth.figma_tiers import TIERS, Classified, classify


def documented_tiers() -> dict[tuple[str, str], tuple[int, str]]:
    """docs/FIGMA.md's "Endpoint tiers marked confirmed": (method, path) → (tier, source)."""
    text = (ROOT / "docs" / "FIGMA.md").read_text()
    rows = re.findall(r"^\| `([A-Z]+) (/[^`]+)` \| (\d) \| (.*?) \|$", text, re.MULTILINE)
    return {(method, path): (int(tier), source.strip()) for method, path, tier, source in rows}


def test_every_confirmed_tier_names_its_source_in_the_docs_and_only_those_are_listed() -> None:
    confirmed = {(m, t): tier for m, t, tier, sure in TIERS if sure}
    documented = documented_tiers()
    assert set(documented) == set(confirmed)
    for endpoint, tier in confirmed.items():
        assert documented[endpoint][0] == tier, endpoint
        assert documented[endpoint][1].startswith("Figma:"), endpoint  # Figma's own page, not a third party


def test_the_emulator_plays_the_products_tiers_for_every_endpoint_both_know() -> None:
    product = {(m, t): (tier, sure) for m, t, tier, sure in TIERS}
    emulator = {(e.method, e.template): (e.tier, e.confirmed) for e in figma_api.ENDPOINTS}
    assert set(product) == set(emulator)
    assert {k: v for k, v in emulator.items() if product[k] != v} == {}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v1/files/K/meta", Classified(2, "file:K")),  # Figma's own example: Tier 2, not 3
        ("GET", "/v1/files/K", Classified(1, "file:K")),
        ("GET", "/v1/files/K/nodes?ids=1:2", Classified(1, "file:K")),
        ("GET", "/v1/images/K", Classified(1, "file:K")),
        ("GET", "/v1/me", Classified(3, "user")),
        ("GET", "/v1/some/new/endpoint", Classified(1, "user")),  # unknown: the strictest
        ("PATCH", "/v1/me", Classified(1, "user")),
    ],
)
def test_a_call_is_classified_by_its_tier_and_what_it_spends(method: str, path: str, expected: Classified) -> None:
    assert classify(method, path) == expected
