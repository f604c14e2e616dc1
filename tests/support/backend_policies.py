"""The IAM policies docs/BACKEND.md shows for backends, read from the page with its placeholders
filled in: an example region, account and API, and Ada as the user."""

from __future__ import annotations

import json
import re
from typing import Any

from devstack.template import ROOT

ADA = "1143925780461227139"
REGION, ACCOUNT, API_ID = "eu-west-1", "111122223333", "abc123defg"


def readme_policies() -> dict[str, dict[str, Any]]:
    text = (ROOT / "docs" / "BACKEND.md").read_text()
    found = re.findall(r"<!-- policy: ([a-z-]+) -->\n```json\n(.*?)\n```", text, re.DOTALL)
    out = {}
    for name, body in found:
        body = body.replace("REGION", REGION).replace("ACCOUNT", ACCOUNT).replace("API_ID", API_ID)
        out[name] = json.loads(body.replace("USER_ID", ADA))
    return out
