"""clients/cli/figma_login.py against the running stack (what `make run` starts), on Python's
standard library alone (no site-packages): it reads the issuer's RFC 8414 metadata, prints the
link, a person (driven over HTTP) confirms the code and consents, the CLI prints /v1/me."""

from __future__ import annotations

import subprocess
import sys

from devstack.template import ROOT
from tests.support.browser import Browser, confirm_device
from tests.support.stack import Stack


def test_the_cli_signs_in_with_the_device_flow_and_prints_who_you_are(live: Stack):
    cli = subprocess.Popen(
        [sys.executable, "-S", str(ROOT / "clients" / "cli" / "figma_login.py"), live.api, "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert cli.stdout is not None
    first = cli.stdout.readline()  # "Open <verification_uri> and enter the code XXXX-XXXX"
    link = cli.stdout.readline().split()[-1]  # "or open <verification_uri_complete>"
    assert first.startswith(f"Open {live.api}/auth/device/verify and enter the code ")
    code = first.split()[-1]
    assert link.endswith(f"user_code={code}")

    done = confirm_device(Browser(), link, user="grace")
    out, err = cli.communicate(timeout=60)

    assert done.status_code == 303, done.text
    assert cli.returncode == 0, err
    assert '"handle": "Grace Hopper"' in out
    assert "session_token" not in out + err
