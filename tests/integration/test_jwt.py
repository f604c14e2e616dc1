"""JWTs for the app's own API (POST /auth/jwt), verified as an API Gateway JWT authorizer does:
discovery, then JWKS over HTTP, then iss/aud/exp/nbf and the ES256 signature, here with PyJWT
(a third party's verifier, not ours)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from jwt import PyJWKClient

from devstack.hooks import AwsFaults
from figma_auth import oauth, tokens
from tests.support.browser import Browser, sign_in, ticket_of
from tests.support.stack import SESSION_COOKIE, Stack


def signed_in(stack: Stack, user: str = "ada") -> Browser:
    browser = Browser(origin=stack.api)
    done = sign_in(browser, stack.api, user=user)
    assert done.status_code == 303, done.text
    return browser


def verify(
    stack: Stack, token: str, *, audience: str = "figma-auth", metadata: str = "openid-configuration"
) -> dict[str, Any]:
    """What the example API's JWT authorizer checks, with keys found through discovery (OpenID's,
    or RFC 8414's ``oauth-authorization-server``)."""
    discovery = httpx.get(f"{stack.api}/.well-known/{metadata}").json()
    assert discovery["issuer"] == stack.api
    keys = PyJWKClient(discovery["jwks_uri"], cache_keys=False)
    key = keys.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = pyjwt.decode(
        token,
        key.key,
        algorithms=["ES256"],
        audience=audience,
        issuer=discovery["issuer"],
        options={"require": ["iss", "aud", "sub", "exp", "nbf", "iat"]},
    )
    return claims


def segments(token: str) -> list[dict[str, Any]]:
    head, body, _ = token.split(".")
    return [json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in (head, body)]


def encode(part: dict[str, Any]) -> str:
    return tokens.b64url(json.dumps(part, separators=(",", ":")).encode())


def test_a_signed_in_user_gets_a_jwt_that_a_third_party_verifier_accepts(stack: Stack):
    browser = signed_in(stack)
    session = browser.get(f"{stack.api}/auth/session").json()

    answer = browser.post(f"{stack.api}/auth/jwt")

    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    token = answer.json()["jwt"]
    claims = verify(stack, token)
    header, _ = segments(token)
    assert header["alg"] == "ES256" and header["kid"]
    assert claims["sub"] == session["user"]["id"] and claims["sid"] == session["session"]["id"]
    assert claims["iss"] == stack.api and claims["aud"] == "figma-auth"
    assert claims["exp"] - claims["iat"] == 900 and claims["nbf"] == claims["iat"]
    assert answer.json()["expires_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))
    assert (claims["name"], claims["email"]) == (session["user"]["handle"], session["user"]["email"])
    assert claims["picture"] == session["user"]["img_url"] and len(claims["jti"]) >= 16
    assert session["provider"]["access_token"] not in token  # never a Figma token


def test_a_stock_verifier_finds_the_keys_through_rfc_8414_metadata_and_accepts_the_jwt(stack: Stack):
    browser = signed_in(stack)
    minted = browser.post(f"{stack.api}/auth/jwt", headers={"Origin": stack.api})
    assert minted.status_code == 200, minted.text

    claims = verify(stack, minted.json()["jwt"], metadata="oauth-authorization-server")

    assert claims["iss"] == stack.api and claims["name"] == "Ada Lovelace"


def test_a_bearer_session_gets_a_jwt_without_an_origin(stack: Stack):
    verifier = tokens.random_token(48)
    tab = Browser(origin=stack.api)
    done = sign_in(tab, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    token = tab.post(
        f"{stack.api}/auth/token",
        json={"ticket": ticket_of(done.headers["location"]), "code_verifier": verifier},
    ).json()["session_token"]

    answer = httpx.post(f"{stack.api}/auth/jwt", headers={"Authorization": f"Bearer {token}"})

    assert answer.status_code == 200, answer.text
    assert verify(stack, answer.json()["jwt"])["sub"]


def test_no_session_gets_401_and_a_cookie_from_a_foreign_origin_gets_csrf_rejected(stack: Stack):
    browser = signed_in(stack)
    cookie = browser.jar(stack.api)[SESSION_COOKIE]

    anonymous = httpx.post(f"{stack.api}/auth/jwt")
    foreign = httpx.post(
        f"{stack.api}/auth/jwt", headers={"Cookie": f"{SESSION_COOKIE}={cookie}", "Origin": "https://evil.example"}
    )

    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "unauthorized")
    assert (foreign.status_code, foreign.json()["error"]) == (403, "csrf_rejected")


def test_tampered_expired_foreign_audience_alg_none_and_hs256_confused_tokens_are_refused(stack: Stack, reconfigure):
    browser = signed_in(stack)
    good = browser.post(f"{stack.api}/auth/jwt").json()["jwt"]
    header, claims = segments(good)
    head, body, signature = good.split(".")
    public_jwk = httpx.get(f"{stack.api}/.well-known/jwks.json").json()["keys"][0]
    # Ours: the token names (kid) a served key that allows ES256 only, so a verifier driven by
    # the JWK refuses another alg. The refusals below are the verifier library's (PyJWT's).
    assert (header["alg"], header["kid"], public_jwk["alg"], public_jwk["use"]) == (
        "ES256",
        public_jwk["kid"],
        "ES256",
        "sig",
    )

    tampered = f"{head}.{encode({**claims, 'sub': 'someone-else'})}.{signature}"
    alg_none = f"{encode({**header, 'alg': 'none'})}.{body}."
    # HS256 "keyed" with the public key: the classic confusion a verifier must refuse.
    hs_head = encode({**header, "alg": "HS256"})
    mac = hmac.new(json.dumps(public_jwk).encode(), f"{hs_head}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{hs_head}.{body}.{tokens.b64url(mac)}"

    for bad in (tampered, alg_none, confused):
        with pytest.raises(pyjwt.PyJWTError):
            verify(stack, bad)
    with pytest.raises(pyjwt.InvalidAudienceError):
        verify(stack, good, audience="another-api")

    reconfigure(JWT_TTL_SECONDS="60")
    short = browser.post(f"{stack.api}/auth/jwt").json()["jwt"]
    _, short_claims = segments(short)
    assert short_claims["exp"] - short_claims["iat"] == 60
    with pytest.raises(pyjwt.ExpiredSignatureError):  # as a verifier sees it 61 s later
        pyjwt.decode(
            short,
            PyJWKClient(f"{stack.api}/.well-known/jwks.json").get_signing_key_from_jwt(short).key,
            algorithms=["ES256"],
            audience="figma-auth",
            options={"verify_iat": False, "verify_nbf": False},  # judged as of 61 s from now:
            leeway=-61,
        )


def test_jwks_and_discovery_are_public_cacheable_and_name_the_configured_issuer(stack: Stack, reconfigure):
    reconfigure(ISSUER="https://auth.example.com", JWT_AUDIENCE="my-api")

    jwks = httpx.get(f"{stack.api}/.well-known/jwks.json")
    discovery = httpx.get(f"{stack.api}/.well-known/openid-configuration")

    assert jwks.status_code == 200 and discovery.status_code == 200
    assert jwks.headers["cache-control"] == "public, max-age=300"
    (key,) = jwks.json()["keys"]
    assert {k: key[k] for k in ("kty", "crv", "use", "alg")} == {
        "kty": "EC",
        "crv": "P-256",
        "use": "sig",
        "alg": "ES256",
    }
    assert "d" not in key  # the public half only
    assert discovery.json()["issuer"] == "https://auth.example.com"
    assert discovery.json()["jwks_uri"] == "https://auth.example.com/.well-known/jwks.json"
    assert discovery.json()["id_token_signing_alg_values_supported"] == ["ES256"]
    browser = signed_in(stack)
    _, claims = segments(browser.post(f"{stack.api}/auth/jwt").json()["jwt"])
    assert (claims["iss"], claims["aud"]) == ("https://auth.example.com", "my-api")


def test_during_a_key_rotation_jwks_serves_both_keys_and_tokens_are_signed_with_the_new_one(stack: Stack, reconfigure):
    from devstack import aws

    kms = aws.client("kms", stack.moto)
    new_key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    browser = signed_in(stack)
    old_token = browser.post(f"{stack.api}/auth/jwt").json()["jwt"]
    old_kid = segments(old_token)[0]["kid"]
    old_key = __import__("os").environ["JWT_KEY_ID"]

    reconfigure(JWT_KEY_ID=new_key, JWT_VERIFY_KEY_IDS=old_key)  # step 2 of the README's rotation
    new_token = browser.post(f"{stack.api}/auth/jwt").json()["jwt"]

    kids = [k["kid"] for k in httpx.get(f"{stack.api}/.well-known/jwks.json").json()["keys"]]
    assert len(kids) == 2 and kids[1] == old_kid
    assert segments(new_token)[0]["kid"] == kids[0] != old_kid
    assert verify(stack, new_token)["sub"] == verify(stack, old_token)["sub"]


def test_a_jwt_never_outlives_its_session(stack: Stack, reconfigure):
    from tests.support.stack import update_session

    browser = signed_in(stack)
    session_id = browser.get(f"{stack.api}/auth/session").json()["session"]["id"]
    ends = int(time.time()) + 120
    update_session(
        stack.table,
        session_id,
        "SET expires_at = :e",
        {":e": {"S": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ends))}},
    )

    answer = browser.post(f"{stack.api}/auth/jwt").json()

    assert segments(answer["jwt"])[1]["exp"] == ends
    assert answer["expires_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ends))


def test_kms_sign_throttled_is_503_temporarily_unavailable_with_retry_after(stack: Stack):
    faults = AwsFaults()
    faults.fail("kms", "Sign", "ThrottlingException", times=-1)
    browser = signed_in(stack)

    answer = browser.post(f"{stack.api}/auth/jwt")

    assert answer.status_code == 503 and answer.json()["error"] == "temporarily_unavailable"
    assert answer.headers["retry-after"] and "kms:Sign:ThrottlingException" in faults.fired


def test_the_jwt_is_never_logged(stack: Stack):
    import io

    captured = io.StringIO()
    stack.containers.sinks.append(captured)
    browser = signed_in(stack)
    token = browser.post(f"{stack.api}/auth/jwt").json()["jwt"]
    httpx.get(f"{stack.api}/.well-known/jwks.json")
    stack.containers.sinks.remove(captured)

    logs = captured.getvalue()
    assert '"route": "POST /auth/jwt"' in logs or '"route":"POST /auth/jwt"' in logs
    assert token.split(".")[2] not in logs and token.split(".")[1] not in logs


def test_hardening_7_logout_all_and_disconnect_announce_the_jwts_session_within_the_request(stack: Stack):
    from tests.support.stack import EventCapture

    capture = EventCapture(stack.moto)
    browser = signed_in(stack)
    minted = browser.post(f"{stack.api}/auth/jwt", headers={"Origin": stack.api}).json()["jwt"]
    sid = verify(stack, minted)["sid"]

    ended = browser.post(
        f"{stack.api}/auth/logout", json={"all": True, "disconnect": True}, headers={"Origin": stack.api}
    )

    assert ended.status_code == 204
    announced = [e["detail"] for e in capture.received() if e["detail-type"] == "SessionEnded"]
    assert {"user_id": verify(stack, minted)["sub"], "sid": sid, "reason": "disconnect"} in announced
    assert minted not in json.dumps(announced)  # the event names the session, never a token


@pytest.mark.parametrize(
    "origin",
    [None, "null", "https://evil.example", "HTTP://127.0.0.1", "{api}.evil", "{api}/"],
    ids=["no Origin", "null", "an evil origin", "upper-case scheme", "a .evil suffix", "a trailing slash"],
)
def test_what_held_a_cookie_jwt_needs_exactly_an_allowed_origin(stack: Stack, origin: str | None):
    browser = signed_in(stack)
    cookie = browser.jar(stack.api)[SESSION_COOKIE]
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    if origin is not None:
        headers["Origin"] = origin.format(api=stack.api)

    answer = httpx.post(f"{stack.api}/auth/jwt", headers=headers)

    assert (answer.status_code, answer.json()["error"]) == (403, "csrf_rejected")


def test_what_held_a_jwt_is_never_a_session_token(stack: Stack):
    browser = signed_in(stack)
    minted = browser.post(f"{stack.api}/auth/jwt", headers={"Origin": stack.api}).json()["jwt"]
    bearer = {"Authorization": f"Bearer {minted}"}

    for method, path in (("GET", "/auth/session"), ("GET", "/figma/v1/me"), ("POST", "/auth/jwt")):
        answer = httpx.request(method, f"{stack.api}{path}", headers=bearer)
        assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized"), path
