"""clients/js/figma-auth.js in Node (no browser needed): ``figma(path)`` refuses a path that could
leave Figma's API before anything is sent (hardening 2, item 1), and sends plain paths;
``clearRateLimits()`` is the user's DELETE, with the session as the mode carries it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from devstack.template import ROOT

SCRIPT = """
import { FigmaAuth } from %(client)s;
const sent = [];
const auth = new FigmaAuth({
  endpoint: "https://auth.example.com", mode: "token",
  storage: { getItem: () => "token", setItem() {}, removeItem() {} },
  fetch: async (url) => { sent.push(url); return new Response("{}", { status: 200 }); },
});
try { await auth.figma(%(path)s); console.log(JSON.stringify({ sent })); }
catch (error) { console.log(JSON.stringify({ sent, code: error.code })); }
"""


def figma_call(path: str) -> dict[str, object]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("these tests need Node.js (apt-get install nodejs)")
    client = json.dumps((ROOT / "clients" / "js" / "figma-auth.js").as_uri())
    done = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT % {"client": client, "path": json.dumps(path)}],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "path",
    [
        "v1/files/../../../../connections/x",
        "v1/files/%2e%2e/%2E%2E/x",
        "v1/files/.%2e/x",
        "v1/files/a%2Fb",
        "v1/files/a%5Cb",
        "v1/files/%252e%252e/x",
        "v1//files",
        "v1/files/KEY#frag",
        "v1/files/%E0%A4%A",
    ],
)
def test_hardening_1_the_js_clients_figma_refuses_a_path_that_could_leave_figmas_api(path: str) -> None:
    assert figma_call(path) == {"sent": [], "code": "invalid_path"}


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("v1/files/KEY?depth=1&ids=1:2", "https://auth.example.com/figma/v1/files/KEY?depth=1&ids=1:2"),
        ("/v1/me", "https://auth.example.com/figma/v1/me"),
        ("v1/files/KEY/", "https://auth.example.com/figma/v1/files/KEY/"),
    ],
)
def test_a_plain_figma_path_is_sent_through_the_proxy(path: str, url: str) -> None:
    assert figma_call(path) == {"sent": [url]}


CLEAR = """
import { FigmaAuth } from %(client)s;
const sent = [];
const auth = new FigmaAuth({
  endpoint: "https://auth.example.com", mode: %(mode)s,
  storage: { getItem: () => "tok", setItem() {}, removeItem() {} },
  fetch: async (url, init) => { sent.push({ url, method: init.method, credentials: init.credentials,
    authorization: init.headers.Authorization ?? null }); return new Response(null, { status: 204 }); },
});
console.log(JSON.stringify({ done: await auth.clearRateLimits(), sent }));
"""


@pytest.mark.parametrize(
    ("mode", "credentials", "authorization"), [("cookie", "include", None), ("token", "omit", "Bearer tok")]
)
def test_clear_rate_limits_deletes_the_users_ledger_with_the_session_the_mode_carries(
    mode: str, credentials: str, authorization: str | None
) -> None:
    node = shutil.which("node")
    assert node is not None, "these tests need Node.js"
    client = json.dumps((ROOT / "clients" / "js" / "figma-auth.js").as_uri())
    done = subprocess.run(
        [node, "--input-type=module", "-e", CLEAR % {"client": client, "mode": json.dumps(mode)}],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "sent": [
            {
                "url": "https://auth.example.com/auth/rate_limits",
                "method": "DELETE",
                "credentials": credentials,
                "authorization": authorization,
            }
        ]
    }
