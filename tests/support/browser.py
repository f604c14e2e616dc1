"""A scripted browser over real HTTP: its own cookie jar, manual redirects, and the
Figma emulator's consent page filled in like a person would."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support import httpclient

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


class Browser:
    """Keeps cookies per host like a browser; sends Secure cookies to 127.0.0.1 (as Chrome does)."""

    def __init__(self, *, origin: str | None = None) -> None:
        self.http = httpclient.client(follow_redirects=False, timeout=30)
        self.jars: dict[str, dict[str, str]] = {}
        self.origin = origin
        self.set_cookie_headers: list[str] = []

    def jar(self, url: str) -> dict[str, str]:
        return self.jars.setdefault(urlsplit(url).netloc, {})

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        jar = self.jar(url)
        if jar and "Cookie" not in headers:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if self.origin and method != "GET" and "Origin" not in headers:
            headers["Origin"] = self.origin
        response = self.http.request(method, url, headers=headers, **kwargs)
        for raw in response.headers.get_list("set-cookie"):
            self.set_cookie_headers.append(raw)
            pair, *attrs = [p.strip() for p in raw.split(";")]
            name, _, value = pair.partition("=")
            if any(a.lower() == "max-age=0" for a in attrs):
                jar.pop(name, None)
            else:
                jar[name] = value
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self.http.close()


@dataclass
class Consent:
    """The emulator's consent page, parsed."""

    action: str
    fields: dict[str, str]


def read_consent(page: httpx.Response) -> Consent:
    assert page.status_code == 200, page.text
    fields = {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(page.text)}
    base = f"{page.url.scheme}://{page.url.netloc.decode()}"
    return Consent(base + "/oauth/decide", fields)


@dataclass
class LoginAttempt:
    authorize: httpx.Response
    callback_url: str  # where Figma sent the browser back

    @property
    def callback_query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.callback_url).query).items()}


def start_login(
    browser: Browser,
    api: str,
    *,
    success: str | None = None,
    failure: str | None = None,
    decision: str = "allow",
    user: str = "ada",
    **params: str,
) -> LoginAttempt:
    """authorize -> Figma consent -> decision; stops before visiting our callback."""
    query = {"success": success or f"{api}/app/done", "failure": failure or f"{api}/app/failed", **params}
    authorize = browser.get(f"{api}/auth/figma/authorize", params=query)
    assert authorize.status_code == 302, authorize.text
    return LoginAttempt(authorize, decide_at_figma(browser, authorize.headers["location"], decision, user))


def decide_at_figma(browser: Browser, figma_url: str, decision: str = "allow", user: str = "ada") -> str:
    """Figma's consent page, answered like a person would; returns where Figma sends the browser."""
    consent = read_consent(browser.get(figma_url))
    decided = browser.post(consent.action, data={**consent.fields, "decision": decision, "user": user})
    assert decided.status_code == 302, decided.text
    return str(decided.headers["location"])


def hidden_fields(page: httpx.Response) -> dict[str, str]:
    return {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(page.text)}


def look_up_code(browser: Browser, verify_url: str, typed: str | None = None) -> httpx.Response:
    """A person on our verify page: open it (the app's link, or the bare page), then press
    Continue (having typed ``typed`` into the form, if given). Returns the page that answers."""
    form = browser.get(verify_url)
    assert form.status_code == 200, form.text
    fields = hidden_fields(form)
    if typed is not None:
        fields.update(user_code=typed, via="typed")
    return browser.post(verify_url.split("?")[0], data=fields)


def confirm_device(
    browser: Browser, verify_url: str, *, decision: str = "allow", user: str = "ada", follow_widening: bool = True
) -> httpx.Response:
    """A person opening the device's link: press Continue, confirm the code on our page, decide
    at Figma, land on our outcome page. Returns the callback's redirect (to that page)."""
    page = look_up_code(browser, verify_url)
    assert page.status_code == 200 and 'name="confirm"' in page.text, page.text
    to_figma = browser.get(verify_url.split("?")[0], params=hidden_fields(page))
    assert to_figma.status_code == 302, to_figma.text
    done = browser.get(decide_at_figma(browser, to_figma.headers["location"], decision, user))
    if follow_widening and _back_to_figma(done, verify_url):  # the person allows again (see sign_in)
        done = browser.get(decide_at_figma(browser, done.headers["location"], decision, user))
    return done


def _back_to_figma(done: httpx.Response, api_url: str) -> bool:
    location = done.headers.get("location", "")
    ours = api_url.split("/auth/")[0]
    return done.status_code == 303 and "/oauth?" in location and not location.startswith(ours)


def sign_in(browser: Browser, api: str, **kwargs: Any) -> httpx.Response:
    """The whole dance; returns our callback's response (a redirect to success or failure).
    When the callback sends the browser back to Figma for the union of the connection's scopes
    (a narrower sign-in, tests/integration/test_scopes.py), the person allows again."""
    attempt = start_login(browser, api, **kwargs)
    done = browser.get(attempt.callback_url)
    if _back_to_figma(done, api):
        done = browser.get(decide_at_figma(browser, done.headers["location"], user=kwargs.get("user", "ada")))
    return done


def ticket_of(url: str) -> str:
    """Token mode's ticket: in the success URL's fragment, never its query."""
    parts = urlsplit(url)
    assert "ticket" not in parse_qs(parts.query), url
    return parse_qs(parts.fragment)["ticket"][0]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
