"""What a user can install, described the way its registries read it: the Serverless Application
Repository's entry in template.yaml (read with the SAM CLI's own `sam publish` parser, held to
SAR's published field limits), one version across the stack and its two client packages."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from samcli.vendor.serverlessrepo.parser import get_app_metadata, parse_template

from devstack.template import ROOT

SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"


def sar_entry() -> Any:  # samcli's ApplicationMetadata (untyped)
    return get_app_metadata(parse_template((ROOT / "template.yaml").read_text()))


def test_the_template_carries_a_complete_serverless_application_repository_entry() -> None:
    app = sar_entry()
    # CreateApplication needs author, description, name; CreateApplicationVersion a version.
    app.validate(["author", "description", "name", "semantic_version", "spdx_license_id", "source_code_url"])
    assert re.fullmatch(r"[a-zA-Z0-9\-]{1,140}", app.name)
    assert re.fullmatch(r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?", app.author) and len(app.author) <= 127
    assert 1 <= len(app.description) <= 256
    assert 0 < len(app.labels) <= 10 and all(re.fullmatch(r"[a-zA-Z0-9+\-_:/@]{1,127}", x) for x in app.labels)
    assert re.fullmatch(SEMVER, app.semantic_version)
    assert app.source_code_url.startswith("https://") and app.home_page_url.startswith("https://")


def test_its_license_and_readme_are_the_repositorys_files_sam_package_uploads() -> None:
    app = sar_entry()
    assert (ROOT / app.license_url).is_file() and (ROOT / app.readme_url).is_file()
    assert app.spdx_license_id == "MIT" and (ROOT / app.license_url).read_text().startswith("MIT License")


def test_the_stack_and_its_client_packages_share_one_version_and_license() -> None:
    js = json.loads((ROOT / "clients" / "js" / "package.json").read_text())
    python = tomllib.loads((ROOT / "clients" / "python" / "pyproject.toml").read_text())["project"]
    app = sar_entry()
    assert js["version"] == python["version"] == app.semantic_version
    assert js["license"] == python["license"]["text"] == app.spdx_license_id
