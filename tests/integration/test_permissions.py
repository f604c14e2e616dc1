"""Every AWS call a function makes is granted to it in template.yaml. moto enforces no IAM, so
without this a missing permission would only show on the first deploy, as AccessDenied."""

from __future__ import annotations

from typing import Any

import httpx

from devstack import template
from devstack.hooks import AwsCalls
from figma_auth import oauth, tokens
from tests.support.backend_client import backend
from tests.support.browser import Browser, confirm_device, look_up_code, sign_in, start_login, ticket_of
from tests.support.stack import SESSION_COOKIE, Stack, update_connection

# IAM authorizes a transaction item by item (the workers count each item's kind).
NEEDS: dict[str, set[str]] = {
    "dynamodb:TransactWriteItems": set(),
    "transact:Put": {"dynamodb:PutItem"},
    "transact:Update": {"dynamodb:UpdateItem"},
    "transact:Delete": {"dynamodb:DeleteItem"},
    "transact:ConditionCheck": {"dynamodb:ConditionCheckItem"},
    # S3's multipart upload is PutObject's permission; DeleteObjects needs DeleteObject per key.
    "s3:CreateMultipartUpload": {"s3:PutObject"},
    "s3:UploadPart": {"s3:PutObject"},
    "s3:CompleteMultipartUpload": {"s3:PutObject"},
    "s3:DeleteObjects": {"s3:DeleteObject"},
    "s3:HeadObject": {"s3:GetObject"},
    # The WebSocket API's management API is IAM's execute-api:ManageConnections.
    "apigatewaymanagementapi:PostToConnection": {"execute-api:ManageConnections"},
    "apigatewaymanagementapi:DeleteConnection": {"execute-api:ManageConnections"},
    "apigatewaymanagementapi:GetConnection": {"execute-api:ManageConnections"},
}


def needed(calls: list[str]) -> set[str]:
    return {action for call in calls for action in NEEDS.get(call, {call})}


def granted(logical_id: str) -> set[str]:
    """The AWS actions the template allows the function (resources aside): its role's policies,
    and the key policies that name its role (the JWT keys)."""
    doc = template.load()
    props = doc["Resources"][logical_id]["Properties"]
    actions: set[str] = set()
    for resource in doc["Resources"].values():
        if resource.get("Type") != "AWS::KMS::Key":
            continue
        for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
            if f"{logical_id}Role" in str(statement.get("Condition", "")):
                actions |= set(statement["Action"])
    for policy in props.get("Policies") or []:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if statement.get("Effect") == "Allow":
                found = statement["Action"]
                actions |= set(found if isinstance(found, list) else [found])
    return actions


def update_device_pacing(stack: Stack) -> None:
    """Let the next poll through now (instead of waiting the interval out)."""
    from tests.support.stack import _update

    for item in stack.table.items():
        if item["pk"]["S"].startswith("DEVICE#"):
            _update(stack.table, item["pk"]["S"], "DEVICE", "SET next_poll_ms = :z", {":z": {"N": "0"}})


def every_flow(stack: Stack) -> None:
    """Each route's main paths, the failure paths that write, and a scheduled run."""
    api = stack.api
    laptop, phone = Browser(origin=api), Browser(origin=api)
    sign_in(laptop, api, scopes="current_user:read,file_content:read")
    sign_in(phone, api)
    again = start_login(laptop, api)  # signed in: authorize reads the connection's scopes
    laptop.get(again.callback_url)
    laptop.get(f"{api}/auth/session")
    laptop.get(f"{api}/auth/sessions")
    laptop.post(f"{api}/auth/refresh")
    phone.get(f"{api}/figma/v1/me")
    laptop.get(f"{api}/figma/v1/files/HUGE", headers={"Accept-Encoding": "identity"})  # to S3: a 303
    verifier = tokens.random_token(48)
    token_tab = Browser(origin=api)
    done = sign_in(token_tab, api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    ticket = ticket_of(done.headers["location"])
    token_tab.post(f"{api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})
    user_id = laptop.get(f"{api}/auth/session").json()["user"]["id"]
    laptop.post(f"{api}/auth/jwt")
    Browser().get(f"{api}/.well-known/jwks.json")
    Browser().get(f"{api}/.well-known/openid-configuration")
    device = httpx.post(f"{api}/auth/device", json={}).json()
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": device["device_code"]}
    httpx.post(f"{api}/auth/token", json=poll)  # pending
    httpx.post(f"{api}/auth/token", json=poll)  # too early: slow_down
    look_up_code(Browser(), f"{api}/auth/device/verify", typed="BBBB-BBBB")  # a wrong code
    Browser().get(f"{api}/.well-known/oauth-authorization-server")
    confirm_device(Browser(), device["verification_uri_complete"])
    update_device_pacing(stack)
    httpx.post(f"{api}/auth/token", json=poll)  # the session
    denied = httpx.post(f"{api}/auth/device", json={}).json()
    confirm_device(Browser(), denied["verification_uri_complete"], decision="deny")
    backend(stack).get_token(user_id)
    backend(stack).figma(user_id, "GET", "/v1/me")
    stack.emulator.limits(seats={"ada": "view"})
    for _ in range(11):  # Tier 3 for a View seat: ten a minute, then an entry in the ledger (proxy and backend)
        phone.get(f"{api}/figma/v1/me")
    backend(stack).figma(user_id, "GET", "/v1/files/LIMITED")
    phone.delete(f"{api}/auth/rate_limits")  # the user's clear
    backend(stack).clear_rate_limits(user_id)  # the backend's
    list(backend(stack).connections(page_size=1))  # every connection, a page at a time (signed cursors)
    stack.emulator.limits(seats={"ada": "full"})
    plain = backend(stack)
    plain.http.headers["Accept-Encoding"] = "identity"
    plain.figma(user_id, "GET", "/v1/files/HUGE")  # to S3, and followed there
    update_connection(stack.table, user_id, "SET grant_obtained_at = :t", {":t": {"S": "2026-01-01T00:00:00Z"}})
    stack.emulator.config(token_lifetime=600)
    grace = Browser(origin=api)
    sign_in(grace, api, user="grace")
    fn = stack.containers.by_name("refresh_scheduler")
    stack.containers.invoke(fn, {"source": "aws.events", "detail": {}})  # grace's grant is due: refreshed
    stack.emulator.revoke()
    laptop.post(f"{api}/auth/refresh")  # a dead grant: marked, the app told
    phone.post(f"{api}/auth/logout", json={"session_id": laptop.get(f"{api}/auth/session").json()["session"]["id"]})
    phone.post(f"{api}/auth/logout")
    grace.post(f"{api}/auth/logout", json={"all": True, "disconnect": True})
    alan = Browser(origin=api)
    sign_in(alan, api, user="alan", scopes="current_user:read,webhooks:read,webhooks:write")
    alan_id = alan.get(f"{api}/auth/session").json()["user"]["id"]
    hook = alan.post(f"{api}/auth/webhooks", json={"event_type": "FILE_UPDATE", "context": "file", "context_id": "F1"})
    alan.get(f"{api}/auth/webhooks")
    backend(stack).webhooks(alan_id)
    extra = backend(stack).create_webhook(alan_id, "FILE_COMMENT", "file", "F1")
    backend(stack).delete_webhook(alan_id, extra["id"])
    edit = {"event_type": "FILE_UPDATE", "file_key": "F1", "file_name": "F1"}
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/trigger", json=edit).raise_for_status()  # the receiver
    reconciler = stack.containers.by_name("webhook_reconciler")
    stack.containers.invoke(reconciler, {"source": "aws.events", "detail": {}})
    second = alan.post(
        f"{api}/auth/webhooks", json={"event_type": "FILE_DELETE", "context": "file", "context_id": "F2"}
    )
    alan.delete(f"{api}/auth/webhooks/{second.json()['id']}")
    assert hook.status_code == 201, hook.text
    backend(stack).disconnect(alan_id)  # its webhook goes at Figma and here
    token = laptop.jar(api).get(SESSION_COOKIE)
    Browser(origin=api).http.post(f"{api}/auth/logout", headers={"Authorization": f"Bearer {token}"})


def test_every_aws_call_a_function_makes_is_granted_to_it_in_the_template(stack: Stack):
    stack.cold_start()  # new containers: the JWT key's public half read again (an earlier test's is cached)
    counter = AwsCalls()

    every_flow(stack)

    seen: dict[str, Any] = {
        fn: sorted({*calls, *counter.transact_items[fn]}) for fn, calls in counter.by_function.items()
    }
    assert set(seen) >= {
        "AuthorizeFunction",
        "CallbackFunction",
        "SessionFunction",
        "RefreshFunction",
        "LogoutFunction",
        "FigmaProxyFunction",
        "RefreshSchedulerFunction",
        "BackendFunction",
        "WebhooksFunction",
        "WebhookReceiverFunction",
        "WebhookReconcilerFunction",
    }, seen
    assert {"kms:Sign", "kms:GetPublicKey"} <= set(seen["SessionFunction"])
    missing = {fn: sorted(needed(calls) - granted(fn)) for fn, calls in seen.items()}
    assert not any(missing.values()), {fn: gaps for fn, gaps in missing.items() if gaps}


def test_the_realtime_and_push_functions_calls_are_granted_to_them_in_the_template(stack: Stack, realtime: Any):
    from tests.support.realtime import edit, open_socket, set_role, watch

    counter = AwsCalls()
    scopes = "current_user:read,file_metadata:read,webhooks:read,webhooks:write"
    ada, viola = Browser(origin=stack.api), Browser(origin=stack.api)
    sign_in(ada, stack.api, user="ada", scopes=scopes)
    sign_in(viola, stack.api, user="viola", scopes=scopes)
    set_role(stack.emulator.url, "P1", "viola", "viewer")
    holder, rider = open_socket(ada, stack.api), open_socket(viola, stack.api)
    watch(holder, "P1")
    watch(rider, "P1")
    edit(stack.emulator.url, "P1")
    rider.recv_until(lambda m: m["type"] == "event")
    holder.send({"action": "unwatch", "file_key": "P1"})  # the hook moves (and cannot: told unavailable)
    rider.recv_until(lambda m: m.get("status") == "unavailable")
    viola.post(f"{stack.api}/auth/logout")  # SessionEnded: pushed, then the socket closed
    assert rider.closed.wait(10)

    seen = {fn: sorted({*calls, *counter.transact_items[fn]}) for fn, calls in counter.by_function.items()}
    assert {"RealtimeFunction", "PushFunction"} <= set(seen), seen
    assert "apigatewaymanagementapi:PostToConnection" in seen["PushFunction"]
    assert "apigatewaymanagementapi:DeleteConnection" in seen["PushFunction"]
    missing = {fn: sorted(needed(calls) - granted(fn)) for fn, calls in seen.items()}
    assert not any(missing.values()), {fn: gaps for fn, gaps in missing.items() if gaps}
