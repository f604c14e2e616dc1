"""README.md stays short and true: its word budget, the figures it states that a test can
measure, and every link to a file of this repository."""

from __future__ import annotations

import gzip
import json
import re

from devstack.template import ROOT

README = (ROOT / "README.md").read_text()


def test_the_readme_is_within_its_word_budget() -> None:
    assert len(README.split()) <= 2500


def test_the_js_clients_size_is_what_the_readme_says() -> None:
    source = (ROOT / "clients" / "js" / "figma-auth.js").read_bytes()
    stated = re.search(r"ES module \(([\d.]+) KB, ([\d.]+) KB gzipped\)", README)
    assert stated is not None
    assert float(stated.group(1)) == round(len(source) / 1000, 1)
    assert float(stated.group(2)) == round(len(gzip.compress(source, 9)) / 1000, 1)


def test_every_repository_link_in_the_readme_and_docs_names_a_file_that_exists() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_readmes_read_only_policy_is_the_tested_one() -> None:
    from tests.support.backend_policies import ACCOUNT, API_ID, REGION, readme_policies

    inline = re.search(r'`(\{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": [^`]+\})`', README)
    assert inline is not None
    text = inline.group(1).replace("REGION", REGION).replace("ACCOUNT", ACCOUNT).replace("API_ID", API_ID)
    assert [json.loads(text)] == readme_policies()["read"]["Statement"]
