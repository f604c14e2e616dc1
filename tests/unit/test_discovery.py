"""RFC 8414 metadata in the AWS shape: the session function, with the environment template.yaml
gives it and the event API Gateway sends on the custom domain (or the execute-api host),
answers an ``issuer`` equal to the stack's Issuer output, exactly, with every endpoint under it
(§3.3), and costs no AWS call; the document's response and subject types, and without JWTs,
why not."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from devstack.hooks import AwsCalls
from devstack.lambdas import http_event
from devstack.template import Route, _compile, functions, load
from devstack.workers import LambdaContext, load_module
from figma_auth import runtime
from figma_auth.errors import NotFound
from figma_auth.models.tokens import DEVICE_GRANT

EXECUTE_API = "abc123defg.execute-api.eu-west-1.amazonaws.com"
BASE_ENV = {
    "FIGMA_CLIENT_ID": "cid",
    "FIGMA_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:figma",
    "TABLE_NAME": "t",
    "KMS_KEY_ID": "k",
    "JWT_KEY_ID": "jwt-key",
    "ALLOWED_ORIGINS": "https://app.example.com",
    "ALLOWED_SCOPES": "current_user:read,file_content:read",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def resolve(value: Any, custom_domain: str) -> str:
    """A template value as CloudFormation resolves it, for a stack with or without the custom domain."""
    if isinstance(value, dict) and "Fn::If" in value:
        condition, when, otherwise = value["Fn::If"]
        assert condition == "HasCustomDomain"
        return resolve(when if custom_domain else otherwise, custom_domain)
    if isinstance(value, dict) and "Fn::Sub" in value:
        known = {
            "CustomDomainName": custom_domain,
            "HttpApi": EXECUTE_API.split(".")[0],
            "AWS::Region": "eu-west-1",
            "AWS::URLSuffix": "amazonaws.com",
        }
        return re.sub(r"\$\{([^}]+)\}", lambda m: known[m.group(1)], value["Fn::Sub"])
    assert isinstance(value, str), value
    return value


def metadata(path: str, *, custom_domain: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any], AwsCalls]:
    """The session function's answer to GET ``path`` in a fresh container, and the AWS calls it made."""
    doc = load()
    session = next(fn for fn in functions(doc).values() if fn.name == "session")
    variables = {
        **doc["Globals"]["Function"]["Environment"]["Variables"],
        **doc["Resources"][session.logical_id]["Properties"].get("Environment", {}).get("Variables", {}),
    }
    issuer_env = variables["ISSUER"]
    for name, value in {**BASE_ENV, "ISSUER": resolve(issuer_env, custom_domain)}.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    calls = AwsCalls()  # on the container's new AWS session
    handler = load_module(session).lambda_handler
    domain = custom_domain or EXECUTE_API  # API Gateway's requestContext.domainName
    event = http_event(
        method="GET",
        path=path,
        raw_query="",
        headers=[("host", domain)],
        body=b"",
        route=Route("GET", path, session.logical_id, _compile(path)),
        path_params={},
        domain=domain,
    )
    answer = handler(event, LambdaContext(session.logical_id, 10))
    runtime.reset()
    return answer["statusCode"], json.loads(answer["body"]), calls


@pytest.mark.parametrize("custom_domain", ["auth.example.com", ""], ids=["custom domain", "execute-api"])
@pytest.mark.parametrize("path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"])
def test_the_metadata_issuer_is_the_stacks_issuer_output_exactly_and_every_endpoint_is_under_it(
    custom_domain: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = resolve(load()["Outputs"]["Issuer"]["Value"], custom_domain)

    status, body, calls = metadata(path, custom_domain=custom_domain, monkeypatch=monkeypatch)

    assert status == 200 and body["issuer"] == expected
    assert body["device_authorization_endpoint"] == f"{expected}/auth/device"
    assert body["token_endpoint"] == f"{expected}/auth/token"
    assert body["jwks_uri"] == f"{expected}/.well-known/jwks.json"
    assert DEVICE_GRANT in body["grant_types_supported"]
    assert body["token_endpoint_auth_methods_supported"] == ["none"]
    assert body["scopes_supported"] == ["current_user:read", "file_content:read"]  # ALLOWED_SCOPES
    assert body["id_token_signing_alg_values_supported"] == ["ES256"] and body["response_types_supported"]
    assert calls.calls == {}  # settings alone: no AWS call


def test_the_metadata_names_the_agents_authorization_code_flow_as_the_contract_lists_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status, body, calls = metadata("/.well-known/oauth-authorization-server", custom_domain="", monkeypatch=monkeypatch)

    issuer = body["issuer"]
    assert status == 200 and body["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert "code" in body["response_types_supported"]
    assert {"authorization_code", "refresh_token", DEVICE_GRANT} <= set(body["grant_types_supported"])
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["client_id_metadata_document_supported"] is True
    assert body["authorization_response_iss_parameter_supported"] is True
    assert body["token_endpoint_auth_methods_supported"] == ["none"] and calls.calls == {}


def test_without_jwts_the_rfc_8414_metadata_is_served_without_jwks_uri_and_openid_discovery_is_404(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(BASE_ENV, "JWT_KEY_ID", "")

    status, body, _ = metadata("/.well-known/oauth-authorization-server", custom_domain="", monkeypatch=monkeypatch)
    assert status == 200 and "jwks_uri" not in body and body["token_endpoint"].endswith("/auth/token")
    status, body, _ = metadata("/.well-known/openid-configuration", custom_domain="", monkeypatch=monkeypatch)
    assert (status, body["error"]) == (404, "not_found")


def test_the_discovery_document_says_id_tokens_and_public_subjects_and_without_jwts_why_not() -> None:
    from figma_auth.usecases.discovery import Discovery

    doc = Discovery(scopes=("current_user:read",), jwts=True).openid_configuration("https://api.example.com")
    assert (doc.response_types_supported, doc.subject_types_supported) == (["code", "id_token"], ["public"])
    with pytest.raises(NotFound) as off:
        Discovery(scopes=(), jwts=False).openid_configuration("https://api.example.com")
    assert off.value.message == "JWTs are not enabled on this deployment: set JWT_KEY_ID to a KMS ECC_NIST_P256 key."
