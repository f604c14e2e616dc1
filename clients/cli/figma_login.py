"""Sign in with Figma from a terminal (the device flow, RFC 8628), then call Figma through the
figma-auth proxy. Needs only httpx.

    python clients/cli/figma_login.py https://abc123.execute-api.eu-west-1.amazonaws.com
    python clients/cli/figma_login.py http://127.0.0.1:3000 --scopes current_user:read

It prints a code and a link; open the link, check the code, allow access at Figma. Then it
prints who you are (GET /v1/me through the proxy). The session token is never printed: save it
(e.g. in your OS keychain) if your tool needs to call again later.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import webbrowser

import httpx

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def sign_in(http: httpx.Client, scopes: str | None, *, open_browser: bool) -> str:
    """The device flow: the session token, or SystemExit with what went wrong."""
    started = http.post("/auth/device", json={"scopes": scopes} if scopes else {})
    if started.status_code != 200:
        raise SystemExit(f"could not start: {started.status_code} {started.text}")
    device = started.json()
    print(f"Open {device['verification_uri']} and enter the code {device['user_code']}", flush=True)
    print(f"or open {device['verification_uri_complete']}", flush=True)
    if open_browser:
        webbrowser.open(device["verification_uri_complete"])
    interval = device["interval"]
    deadline = time.monotonic() + device["expires_in"]
    while time.monotonic() < deadline:
        time.sleep(interval)  # RFC 8628: wait the interval between polls
        answer = http.post("/auth/token", data={"grant_type": DEVICE_GRANT, "device_code": device["device_code"]})
        if answer.status_code == 200:
            return str(answer.json()["session_token"])
        error = answer.json().get("error")
        if error == "slow_down":
            interval += 5
        elif error != "authorization_pending":
            raise SystemExit(f"not signed in: {error}: {answer.json().get('message')}")
    raise SystemExit("not signed in: the code expired")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sign in with Figma (device flow) and print /v1/me.")
    parser.add_argument("api", help="figma-auth's ApiUrl, e.g. http://127.0.0.1:3000")
    parser.add_argument("--scopes", help="comma-separated Figma scopes (default: the API's DEFAULT_SCOPES)")
    parser.add_argument("--no-browser", action="store_true", help="only print the link")
    args = parser.parse_args(argv)
    with httpx.Client(base_url=args.api.rstrip("/"), timeout=30) as http:
        token = sign_in(http, args.scopes, open_browser=not args.no_browser)
        me = http.get("/figma/v1/me", headers={"Authorization": f"Bearer {token}"})
        print(json.dumps(me.json(), indent=2))
    return 0 if me.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
