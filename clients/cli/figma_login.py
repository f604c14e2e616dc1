"""Sign in with Figma from a terminal (the device flow, RFC 8628), then call Figma through the
figma-auth proxy. Python's standard library only: nothing to install.

    python clients/cli/figma_login.py https://abc123.execute-api.eu-west-1.amazonaws.com
    python clients/cli/figma_login.py http://127.0.0.1:3000 --file FILE_KEY

It reads the issuer's RFC 8414 metadata, prints a code and a link; open the link, check the
code, allow access at Figma. Then it prints who you are (GET /v1/me through the proxy) and, with
--file, the file's name (GET /v1/files/KEY: it asks for file_content:read, which that needs). The
session token is never printed: save it (e.g. in your OS keychain) if your tool needs it later.
Any stock RFC 8628 client does the same from the issuer URL alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from typing import Any
from urllib.parse import quote

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_ID = "figma-auth-cli"  # shown to the person on the verify page
SCOPES = "current_user:read file_content:read"  # who you are (/v1/me) and, with --file, a file's content


def call(method: str, url: str, *, form: dict[str, str] | None = None, token: str | None = None) -> tuple[int, Any]:
    """One HTTP request; (status, JSON body). Error answers are read, not raised."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def sign_in(issuer: str, scope: str | None, *, open_browser: bool) -> str:
    """The device flow: the access token (our session token), or SystemExit with what went wrong."""
    status, metadata = call("GET", f"{issuer}/.well-known/oauth-authorization-server")
    if status != 200 or metadata.get("issuer") != issuer:
        raise SystemExit(f"{issuer} is not a figma-auth issuer (RFC 8414 metadata: {status})")
    status, device = call(
        "POST",
        metadata["device_authorization_endpoint"],
        form={"client_id": CLIENT_ID, **({"scope": scope} if scope else {})},
    )
    if status != 200:
        raise SystemExit(f"could not start: {device.get('error')}: {device.get('error_description')}")
    print(f"Open {device['verification_uri']} and enter the code {device['user_code']}", flush=True)
    print(f"or open {device['verification_uri_complete']}", flush=True)
    if open_browser:
        webbrowser.open(device["verification_uri_complete"])
    interval = device["interval"]
    deadline = time.monotonic() + device["expires_in"]
    while time.monotonic() < deadline:
        time.sleep(interval)  # RFC 8628 §3.5: wait the interval between polls
        poll = {"grant_type": DEVICE_GRANT, "device_code": device["device_code"], "client_id": CLIENT_ID}
        status, answer = call("POST", metadata["token_endpoint"], form=poll)
        if status == 200:
            return str(answer["access_token"])
        if answer.get("error") == "slow_down":
            interval += 5
        elif answer.get("error") != "authorization_pending":
            raise SystemExit(f"not signed in: {answer.get('error')}: {answer.get('error_description')}")
    raise SystemExit("not signed in: the code expired")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sign in with Figma (device flow) and print /v1/me.")
    parser.add_argument("issuer", help="figma-auth's Issuer (its ApiUrl), e.g. http://127.0.0.1:3000")
    parser.add_argument(
        "--scope", default=SCOPES, help=f"space-separated Figma scopes (default: {SCOPES!r}, what this tool uses)"
    )
    parser.add_argument("--file", help="also open this Figma file (its key) through the proxy and print its name")
    parser.add_argument("--no-browser", action="store_true", help="only print the link")
    args = parser.parse_args(argv)
    issuer = args.issuer.rstrip("/")
    token = sign_in(issuer, args.scope, open_browser=not args.no_browser)
    status, me = call("GET", f"{issuer}/figma/v1/me", token=token)
    print(json.dumps(me, indent=2))
    if status != 200:
        return 1
    if args.file:
        status, file = call("GET", f"{issuer}/figma/v1/files/{quote(args.file, safe='')}?depth=1", token=token)
        print(json.dumps({"file": file.get("name"), "status": status} if status == 200 else file, indent=2))
        return 0 if status == 200 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
