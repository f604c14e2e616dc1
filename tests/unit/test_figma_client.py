"""The Figma client's one retry policy, with an injected transport and an injected sleep: a
timeout or a Retry-After costs no real time here."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from figma_auth.errors import FigmaAuthError, FigmaUnavailable, ReauthRequired
from figma_auth.figma import FigmaClient, RetryPolicy
from figma_auth.oauth import FigmaGrant

NOW = datetime(2026, 11, 28, tzinfo=UTC)
GRANT = FigmaGrant("figu_old-token-000000000000", "figr_refresh-token-0000000000", NOW, ("current_user:read",))


def client(
    answers: list[httpx.Response | Exception],
    *,
    style: str = "refresh",
    retry: RetryPolicy | None = None,
    api_url: str = "https://api.figma.test",
    **options: Any,
) -> tuple[FigmaClient, list[httpx.Request], list[float]]:
    seen: list[httpx.Request] = []
    slept: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    figma = FigmaClient(
        api_url=api_url,
        client_id="cid",
        client_secret=lambda: "secret",
        http=httpx.Client(transport=httpx.MockTransport(handle)),
        retry=retry,
        sleep=slept.append,
        refresh_style=style,
        **options,
    )
    return figma, seen, slept


def ok() -> httpx.Response:
    return httpx.Response(200, json={"access_token": "figu_new-token-000000000000", "expires_in": 3600})


def test_a_timeout_is_retried_once_then_figma_unavailable_without_real_waiting() -> None:
    figma, seen, slept = client([httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow")])

    with pytest.raises(FigmaUnavailable):
        figma.refresh(GRANT, now=lambda: NOW)

    assert len(seen) == 2 and len(slept) == 1 and slept[0] < 1


def test_a_short_retry_after_is_waited_out_and_the_call_retried() -> None:
    figma, seen, slept = client([httpx.Response(429, headers={"Retry-After": "2"}), ok()])

    grant = figma.refresh(GRANT, now=lambda: NOW)

    assert slept == [2.0] and len(seen) == 2
    assert grant.expires_at == NOW + timedelta(hours=1) and grant.refresh_token == GRANT.refresh_token


def test_a_retry_after_longer_than_we_wait_gives_up_at_once_and_passes_it_on() -> None:
    figma, seen, slept = client([httpx.Response(429, headers={"Retry-After": "396749"})])

    with pytest.raises(FigmaUnavailable) as caught:
        figma.refresh(GRANT, now=lambda: NOW)

    assert caught.value.retry_after == 396749 and slept == [] and len(seen) == 1


def test_the_scheduler_policy_never_retries_a_429() -> None:
    figma, seen, slept = client(
        [httpx.Response(429, headers={"Retry-After": "1"})], retry=RetryPolicy(retry_rate_limited=False)
    )

    with pytest.raises(FigmaUnavailable):
        figma.refresh(GRANT, now=lambda: NOW)

    assert len(seen) == 1 and slept == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"status": 500, "err": "Internal server error"}),
        httpx.Response(503),
        httpx.Response(429, json={"status": 429, "err": "Rate limit exceeded"}),  # no Retry-After
    ],
    ids=["500", "503", "429-without-retry-after"],
)
def test_a_5xx_or_a_429_without_retry_after_is_retried_after_a_pause_of_50_to_250_ms(failure: httpx.Response) -> None:
    figma, seen, slept = client([failure, ok()])

    grant = figma.refresh(GRANT, now=lambda: NOW)

    assert grant.access_token == "figu_new-token-000000000000" and len(seen) == 2
    assert len(slept) == 1 and 0.05 <= slept[0] <= 0.25


@pytest.mark.parametrize(("draw", "pauses"), [("low", [0.05, 0.10]), ("high", [0.25, 0.50])])
def test_each_pause_before_a_retry_is_50_to_250_ms_times_the_attempt(
    monkeypatch: pytest.MonkeyPatch, draw: str, pauses: list[float]
) -> None:
    import random

    monkeypatch.setattr(random, "uniform", lambda low, high: low if draw == "low" else high)
    figma, seen, slept = client([httpx.Response(503), httpx.Response(503), ok()], retry=RetryPolicy(attempts=3))

    figma.refresh(GRANT, now=lambda: NOW)

    assert slept == pytest.approx(pauses) and len(seen) == 3


def test_a_retry_after_of_exactly_the_longest_wait_is_waited_out() -> None:
    figma, seen, slept = client([httpx.Response(429, headers={"Retry-After": "5"}), ok()])

    figma.refresh(GRANT, now=lambda: NOW)

    assert slept == [5.0] and len(seen) == 2


@pytest.mark.parametrize(
    ("api_url", "reached"),
    [
        ("https://api.figma.test/", "https://api.figma.test/v1/me"),
        ("https://api.figma.test//", "https://api.figma.test/v1/me"),
        ("HTTPS://API.FIGMA.BOX/", "https://api.figma.box/v1/me"),
    ],
    ids=["a-trailing-slash", "two", "a-host-in-capitals"],
)
def test_the_api_url_is_reached_as_configured_less_its_trailing_slashes(api_url: str, reached: str) -> None:
    figma, seen, _ = client([httpx.Response(200, json={"id": "1"})], api_url=api_url)

    figma.me("t")

    assert str(seen[0].url) == reached


def test_each_try_connects_within_the_clients_connect_timeout_not_its_read_timeout() -> None:
    default, by_default, _ = client([httpx.Response(200, json={"id": "1"})])  # 3 s to connect, 5 s to read
    shorter, by_shorter, _ = client([httpx.Response(200, json={"id": "1"})], connect_timeout=2.0, read_timeout=4.0)

    default.me("t")
    shorter.me("t")

    assert by_default[0].extensions["timeout"]["connect"] == 3.0
    assert by_shorter[0].extensions["timeout"]["connect"] == 2.0


def test_a_try_given_exactly_the_shortest_time_worth_starting_is_made() -> None:
    from figma_auth import deadline

    figma, seen, _ = client([httpx.Response(200, json={"id": "1"})], read_timeout=deadline.MIN_ATTEMPT_SECONDS)

    assert figma.me("t").id == "1" and len(seen) == 1


@pytest.mark.parametrize(
    ("style", "path", "form"),
    [
        ("refresh", "/v1/oauth/refresh", b"refresh_token=figr_refresh-token-0000000000"),
        ("token", "/v1/oauth/token", b"grant_type=refresh_token&refresh_token=figr_refresh-token-0000000000"),
    ],
)
def test_figma_refresh_style_picks_the_endpoint_and_form(style: str, path: str, form: bytes) -> None:
    figma, seen, _ = client([ok()], style=style)

    figma.refresh(GRANT, now=lambda: NOW)

    assert (seen[0].method, seen[0].url.path, seen[0].content) == ("POST", path, form)
    assert seen[0].headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "refusal",
    [
        httpx.Response(404, json={"status": 404, "err": "Not found"}),
        httpx.Response(400, json={"error": "unsupported_grant_type", "error_description": "no"}),
        httpx.Response(400, json={"error": True, "status": 400, "message": "unsupported_grant_type", "i18n": None}),
    ],
    ids=["404", "oauth-shape", "figma-shape"],
)
def test_the_token_style_refused_falls_back_once_to_refresh_and_the_container_remembers(
    refusal: httpx.Response, emitted: list[str]
) -> None:
    figma, seen, _ = client([refusal, ok(), ok(), ok()], style="token")

    first = figma.refresh(GRANT, now=lambda: NOW)
    figma.refresh(GRANT, now=lambda: NOW)
    figma.with_retry(RetryPolicy(retry_rate_limited=False)).refresh(GRANT, now=lambda: NOW)  # the scheduler's

    assert [r.url.path for r in seen] == [
        "/v1/oauth/token",
        "/v1/oauth/refresh",
        "/v1/oauth/refresh",
        "/v1/oauth/refresh",
    ]
    assert seen[1].content == b"refresh_token=figr_refresh-token-0000000000"
    assert first.access_token == "figu_new-token-000000000000" and emitted == ["RefreshStyleFallback"]


def test_a_dead_grant_at_the_token_style_is_reauth_required_not_a_fallback() -> None:
    figma, seen, _ = client([httpx.Response(400, json={"error": "invalid_grant"})], style="token")

    with pytest.raises(ReauthRequired):
        figma.refresh(GRANT, now=lambda: NOW)

    assert [r.url.path for r in seen] == ["/v1/oauth/token"]


def test_the_refresh_style_never_asks_the_token_endpoint() -> None:
    figma, seen, _ = client([httpx.Response(404, json={}), ok()], style="refresh")

    with pytest.raises(FigmaAuthError):
        figma.refresh(GRANT, now=lambda: NOW)

    assert [r.url.path for r in seen] == ["/v1/oauth/refresh"]


def test_a_new_refresh_token_in_the_answer_replaces_the_old_one() -> None:
    answer = httpx.Response(
        200,
        json={
            "access_token": "figu_new-token-000000000000",
            "refresh_token": "figr_rotated-00000000000",
            "expires_in": 60,
        },
    )
    figma, _, _ = client([answer])

    assert figma.refresh(GRANT, now=lambda: NOW).refresh_token == "figr_rotated-00000000000"


def test_invalid_grant_at_refresh_is_reauth_required() -> None:
    figma, _, _ = client([httpx.Response(400, json={"error": "invalid_grant"})])

    with pytest.raises(ReauthRequired):
        figma.refresh(GRANT, now=lambda: NOW)


def test_a_proxied_call_that_times_out_is_figma_unavailable_502_and_never_replayed() -> None:
    calls: list[httpx.Request] = []

    def hang(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("Figma did not answer", request=request)

    with pytest.raises(FigmaUnavailable) as caught:
        FigmaClient(
            api_url="https://api.figma.test",
            client_id="cid",
            client_secret=lambda: "secret",
            http=httpx.Client(transport=httpx.MockTransport(hang)),
        ).forward(
            "/v1/files/AbC",
            method="POST",
            token="figu_token",
            body=b"{}",
            content_type="application/json",
        )

    assert caught.value.status == 502 and len(calls) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(400, json={"error": "invalid_grant"}),
        httpx.Response(400, json={"error": True, "status": 400, "message": "Invalid refresh token"}),
        httpx.Response(401, json={"status": 401, "err": "Token expired"}),
        httpx.Response(403, json={"status": 403, "err": "Invalid token"}),
    ],
    ids=["invalid_grant", "invalid refresh token", "token expired", "invalid token"],
)
def test_only_figmas_explicit_dead_token_answers_end_a_grant(answer: httpx.Response) -> None:
    figma, _, _ = client([answer])

    with pytest.raises(ReauthRequired):
        figma.refresh(GRANT, now=lambda: NOW)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(403, text="<html><body>Forbidden</body></html>", headers={"Content-Type": "text/html"}),
        httpx.Response(400, content=b""),
        httpx.Response(400, json={"error": "invalid_request"}),
        httpx.Response(401, json={"error": "invalid_client"}),
        httpx.Response(403, json={"status": 403, "err": "Invalid request"}),
    ],
    ids=["html 403", "empty 400", "invalid_request", "invalid_client", "invalid request prose"],
)
def test_any_other_refusal_is_figma_error_and_keeps_the_grant(answer: httpx.Response, emitted: list[str]) -> None:
    from figma_auth.errors import FigmaError

    figma, _, _ = client([answer])

    with pytest.raises(FigmaError) as refused:
        figma.refresh(GRANT, now=lambda: NOW)
    assert not isinstance(refused.value, ReauthRequired) and refused.value.code == "figma_error"
    # counted as unrecognised (docs/DEPLOY.md's alarm) unless Figma said why: our own client credentials
    said_why = answer.status_code == 401 and b"invalid_client" in answer.content
    assert emitted == ([] if said_why else ["RefreshAnswerUnrecognised"])


def test_figma_is_reached_with_verified_tls_and_a_plain_http_api_loads_no_ca_bundle() -> None:
    import ssl

    from figma_auth.figma import tls_for

    assert tls_for("https://api.figma.com") is True and tls_for("HTTPS://api.figma.com") is True  # httpx's default
    local = tls_for("http://127.0.0.1:4010")
    assert isinstance(local, ssl.SSLContext)
    assert local.verify_mode == ssl.CERT_REQUIRED and local.check_hostname
    assert local.cert_store_stats()["x509_ca"] == 0  # trusts no one


def test_an_https_url_through_the_plain_http_context_is_refused_never_reached_unverified(tmp_path: Path) -> None:
    import socket
    import ssl
    import threading

    from figma_auth.figma import tls_for

    cert, key = _certificate(tmp_path, "self-signed")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    handshakes: list[str] = []

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server_tls.wrap_socket(conn, server_side=True):
                handshakes.append("completed")
        except (ssl.SSLError, OSError):
            handshakes.append("refused by the client")

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with httpx.Client(verify=tls_for("http://127.0.0.1:4010"), timeout=5) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                client.get(f"https://localhost:{port}/v1/me")
    finally:
        thread.join(timeout=5)
        listener.close()
    assert handshakes == ["refused by the client"]


# -- the real client (no injected transport) against a local TLS server ----------------------
# httpx verifies with certifi's bundle, or the CA file SSL_CERT_FILE names (httpx's own
# setting, read when the client is built): the tests' seam to trust a test CA. Production sets
# no SSL_CERT_FILE, so it verifies against certifi's bundle.


def _certificate(tmp_path: Path, name: str, *, host: str = "localhost", ca: Path | None = None) -> tuple[Path, Path]:
    """A certificate for ``host`` and its key, as PEM files: signed by the authority ``ca`` (its
    certificate file, from _authority), or self-signed."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    issuer, signer = subject, key
    if ca is not None:
        ca_cert = x509.load_pem_x509_certificate(ca.read_bytes())
        issuer = ca_cert.subject
        loaded = serialization.load_pem_private_key(ca.with_suffix(".key").read_bytes(), None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        signer = loaded
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    )
    cert = builder.sign(signer, hashes.SHA256())
    (tmp_path / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / f"{name}.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / f"{name}.pem", tmp_path / f"{name}.key"


def _authority(tmp_path: Path) -> Path:
    """A test certificate authority: its certificate (the file SSL_CERT_FILE names), key beside it."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "figma-auth test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "ca.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return tmp_path / "ca.pem"


class _Served:
    """A test's own HTTP server on 127.0.0.1, serving on a thread until ``close``."""

    def _serve(self, server: Any, url: str) -> None:
        import threading

        self.server, self.url = server, url
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


class _FigmaOverTls(_Served):
    """Figma's GET /v1/me over HTTPS on 127.0.0.1, presenting ``cert``; keeps the
    Authorization headers it received (none when the client refused the handshake)."""

    def __init__(self, cert: Path, key: Path) -> None:
        import ssl
        from http.server import BaseHTTPRequestHandler, HTTPServer

        self.received: list[str] = []
        received = self.received

        class Me(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                received.append(self.headers.get("Authorization", ""))
                body = b'{"id": "1143925780461227139", "handle": "Ada Lovelace", "email": "ada@example.com"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
        server = HTTPServer(("127.0.0.1", 0), Me)
        server.socket = tls.wrap_socket(server.socket, server_side=True)  # a refused handshake: OSError
        self._serve(server, f"https://localhost:{server.server_address[1]}")


def _real_client(api_url: str) -> FigmaClient:
    return FigmaClient(
        api_url=api_url, client_id="cid", client_secret=lambda: "secret", retry=RetryPolicy(attempts=1),
        sleep=lambda s: None,
    )  # fmt: skip


def test_the_real_figma_client_reaches_a_server_whose_certificate_a_trusted_ca_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = _authority(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    figma = _FigmaOverTls(*_certificate(tmp_path, "figma", ca=ca))
    try:
        user = _real_client(figma.url).me("figu_access-token")
    finally:
        figma.close()
    assert user.handle == "Ada Lovelace"
    assert figma.received == ["Bearer figu_access-token"]


@pytest.mark.parametrize(
    ("presented", "why"),
    [
        ("self-signed", "signed by no CA the client trusts"),
        ("another host's", "signed by the trusted CA, for another host name"),
    ],
)
def test_the_real_figma_client_refuses_a_server_it_cannot_verify_and_sends_it_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, presented: str, why: str
) -> None:
    ca = _authority(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the test CA trusted: only the certificate's flaw refuses it
    if presented == "self-signed":
        cert = _certificate(tmp_path, "figma")
    else:
        cert = _certificate(tmp_path, "figma", host="api.figma.com", ca=ca)
    figma = _FigmaOverTls(*cert)
    try:
        with pytest.raises(FigmaUnavailable) as refused:
            _real_client(figma.url).me("figu_access-token")
    finally:
        figma.close()
    cause = refused.value.__cause__
    assert isinstance(cause, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(cause), why
    assert figma.received == []  # the token never left the client


# -- the proxy's large answers ------------------------------------------------------------------------------


class Untouchable(httpx.SyncByteStream):
    """A body that must never be read (the answer is refused from its Content-Length)."""

    read = False

    def __iter__(self):  # type: ignore[no-untyped-def]
        Untouchable.read = True
        yield b"{}"


def test_an_answer_declared_over_the_limit_is_refused_before_a_byte_is_read() -> None:
    from figma_auth.errors import ResponseTooLarge

    declared = httpx.Response(200, headers={"Content-Length": str(2 * 1024**3)}, stream=Untouchable())
    figma, _, _ = client([declared])

    with pytest.raises(ResponseTooLarge):
        figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None, max_bytes=1024**3)
    assert Untouchable.read is False


def test_a_gzip_answer_is_kept_compressed_for_a_caller_that_takes_it_and_decoded_for_one_that_does_not() -> None:
    import gzip as gz

    document = b'{"name": "Design"}' * 1000
    packed = gz.compress(document)

    def answer() -> httpx.Response:
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(packed))  # as the wire brings it

    figma, seen, _ = client([answer(), answer()])
    kept = figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None, gzip=True)
    decoded = figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None, gzip=False)

    assert (kept.body, kept.encoding) == (packed, "gzip")
    assert (decoded.body, decoded.encoding) == (document, None)
    assert all(r.headers["Accept-Encoding"] == "gzip" for r in seen)  # Figma is always asked for gzip


def test_an_answer_over_what_lambda_returns_goes_to_the_overflow_whole_and_in_order() -> None:
    from figma_auth.figma import HOLD_BYTES

    big = bytes(range(256)) * (HOLD_BYTES // 256 + 4096)
    figma, _, _ = client([httpx.Response(200, headers={"Content-Type": "application/json"}, content=big)])
    stored: list[bytes] = []

    answer = figma.forward(
        "/v1/files/K",
        method="GET",
        token="t",
        body=None,
        content_type=None,
        overflow=lambda chunks, ctype, enc: stored.append(b"".join(chunks)),
    )

    assert answer.overflowed and answer.body == b"" and stored == [big]


def pieces(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """``body`` as the wire brings a large answer: in pieces of ``size`` bytes."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_an_answer_of_exactly_what_lambda_returns_is_held_not_overflowed() -> None:
    from figma_auth.figma import HOLD_BYTES

    exactly = b"x" * HOLD_BYTES
    figma, _, _ = client([httpx.Response(200, content=exactly)])
    stored: list[bytes] = []

    answer = figma.forward(
        "/v1/files/K", method="GET", token="t", body=None, content_type=None,
        overflow=lambda chunks, ctype, enc: stored.append(b"".join(chunks)),
    )  # fmt: skip

    assert (answer.overflowed, answer.body, stored) == (False, exactly, [])


def test_an_answer_arriving_in_pieces_is_held_whole_under_the_limit_and_overflows_whole_over_it() -> None:
    from figma_auth.figma import HOLD_BYTES

    small = bytes(range(256)) * 1024  # 256 KiB: four pieces
    big = bytes(range(256)) * (HOLD_BYTES // 256 + 4096)  # 65 pieces and a bit
    figma, _, _ = client([httpx.Response(200, content=pieces(small)), httpx.Response(200, content=pieces(big))])
    stored: list[bytes] = []

    def overflow(chunks: Iterator[bytes], ctype: str, enc: str | None) -> None:
        stored.append(b"".join(chunks))

    held = figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None, overflow=overflow)
    over = figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None, overflow=overflow)

    assert (held.overflowed, held.body) == (False, small)
    assert (over.overflowed, over.body, stored) == (True, b"", [big])


def test_a_403_is_an_invalid_token_only_when_its_first_512_bytes_say_token() -> None:
    from figma_auth.figma import ProxyResponse, is_invalid_token

    def answer(status: int, body: bytes) -> ProxyResponse:
        return ProxyResponse(status, body, "application/json", {})

    assert is_invalid_token(answer(401, b""))
    assert is_invalid_token(answer(403, b'{"status": 403, "err": "Invalid TOKEN"}'))
    assert is_invalid_token(answer(403, b" " * 507 + b"token"))  # its last byte is the 512th
    assert not is_invalid_token(answer(403, b" " * 508 + b"token"))  # its last byte is the 513th
    assert not is_invalid_token(answer(403, b'{"status": 403, "err": "Forbidden"}'))  # a file you can't see
    assert not is_invalid_token(answer(404, b'{"status": 404, "err": "Invalid token"}'))


def test_without_an_overflow_an_answer_over_what_lambda_returns_is_response_too_large() -> None:
    from figma_auth.errors import ResponseTooLarge
    from figma_auth.figma import HOLD_BYTES

    figma, _, _ = client([httpx.Response(200, content=b"x" * (HOLD_BYTES + 1))])
    with pytest.raises(ResponseTooLarge):
        figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None)


# -- the code exchange and /v1/me, as Figma is asked and as its answers are read --------------------

EXCHANGED = {
    "access_token": "figu_access-token-0000000000",
    "refresh_token": "figr_refresh-token-0000000000",
    "expires_in": 7776000,
    "user_id_string": "1234567890",
}


def test_a_code_is_exchanged_once_with_the_client_credentials_the_redirect_uri_and_the_verifier() -> None:
    figma, seen, _ = client([httpx.Response(200, json=EXCHANGED)])

    done = figma.exchange_code(
        code="the-code", redirect_uri="https://api/cb", code_verifier="the-verifier", scopes=("current_user:read",),
        now=NOW,
    )  # fmt: skip

    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/v1/oauth/token")
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"cid:secret").decode()
    assert dict(httpx.QueryParams(request.content.decode())) == {
        "redirect_uri": "https://api/cb", "code": "the-code", "grant_type": "authorization_code",
        "code_verifier": "the-verifier",
    }  # fmt: skip
    assert done.grant == FigmaGrant(
        "figu_access-token-0000000000",
        "figr_refresh-token-0000000000",
        NOW + timedelta(days=90),
        ("current_user:read",),
    )
    assert done.user_id_hint == "1234567890"


def test_a_code_exchange_without_pkce_sends_no_verifier_and_a_refusal_or_an_outage_is_never_retried() -> None:
    figma, seen, _ = client([httpx.Response(200, json=EXCHANGED)])
    figma.exchange_code(code="c", redirect_uri="https://api/cb", code_verifier=None, scopes=(), now=NOW)
    assert "code_verifier" not in dict(httpx.QueryParams(seen[0].content.decode()))

    for answer in (httpx.Response(400, json={"error": "invalid_grant"}), httpx.Response(503)):
        figma, seen, slept = client([answer, httpx.Response(200, json=EXCHANGED)])
        with pytest.raises(FigmaAuthError) as refused:
            figma.exchange_code(code="c", redirect_uri="https://api/cb", code_verifier=None, scopes=(), now=NOW)
        assert len(seen) == 1 and slept == []  # a code is single-use: never sent twice
        assert str(answer.status_code) in str(refused.value)


@pytest.mark.parametrize(
    "hint",
    [None, 1234567890, "", "x" * 129, "tab\there"],
    ids=["missing", "a-number", "empty", "too-long", "unprintable"],
)
def test_a_user_id_hint_is_kept_only_as_a_short_printable_string(hint: object) -> None:
    body = {**EXCHANGED, "user_id_string": hint}
    figma, _, _ = client([httpx.Response(200, json=body)])
    done = figma.exchange_code(code="c", redirect_uri="https://api/cb", code_verifier=None, scopes=(), now=NOW)
    assert done.user_id_hint is None
    for kept in ("x" * 128, "7"):
        figma, _, _ = client([httpx.Response(200, json={**EXCHANGED, "user_id_string": kept})])
        done = figma.exchange_code(code="c", redirect_uri="u", code_verifier=None, scopes=(), now=NOW)
        assert done.user_id_hint == kept


def test_a_code_exchange_answer_that_is_no_json_is_a_figma_error() -> None:
    figma, _, _ = client([httpx.Response(200, content=b"<html>")])
    with pytest.raises(FigmaAuthError, match="not JSON"):
        figma.exchange_code(code="c", redirect_uri="https://api/cb", code_verifier=None, scopes=(), now=NOW)


@pytest.mark.parametrize("body", [["a", "list"], "a string", 42], ids=["a-list", "a-string", "a-number"])
def test_a_code_exchange_answer_that_is_json_but_no_object_is_a_figma_error(body: object) -> None:
    from figma_auth.errors import FigmaError

    figma, _, _ = client([httpx.Response(200, json=body)])
    with pytest.raises(FigmaError) as refused:
        figma.exchange_code(code="c", redirect_uri="https://api/cb", code_verifier=None, scopes=(), now=NOW)
    assert refused.value.code == "figma_error"


def test_me_asks_with_the_bearer_token_and_reads_who_it_is() -> None:
    figma, seen, _ = client(
        [httpx.Response(200, json={"id": 42, "handle": "Ada", "email": "ada@example.com", "img_url": "https://i/a"})]
    )
    user = figma.me("figu_access-token")
    assert (seen[0].method, seen[0].url.path, seen[0].headers["Authorization"]) == (
        "GET", "/v1/me", "Bearer figu_access-token"
    )  # fmt: skip
    assert (user.id, user.handle, user.email, user.img_url) == ("42", "Ada", "ada@example.com", "https://i/a")


def test_me_keeps_at_most_512_characters_of_a_name_2048_of_a_picture_and_nothing_that_is_no_string() -> None:
    body = {"id": "7", "handle": "h" * 600, "email": ["not", "text"], "img_url": "u" * 3000}
    figma, _, _ = client([httpx.Response(200, json=body)])
    user = figma.me("t")
    assert (user.handle, user.email, user.img_url) == ("h" * 512, "", "u" * 2048)


@pytest.mark.parametrize("status", [401, 403])
def test_me_refused_is_token_rejected(status: int) -> None:
    from figma_auth.figma import TokenRejected

    figma, _, _ = client([httpx.Response(status)])
    with pytest.raises(TokenRejected):
        figma.me("t")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (httpx.Response(404), "HTTP 404"),
        (httpx.Response(200, json=["a list"]), "not a JSON object"),
        (httpx.Response(200, json={"id": True}), "no user id"),
        (httpx.Response(200, json={"id": ""}), "no user id"),
        (httpx.Response(200, json={"id": "9" * 129}), "no user id"),
        (httpx.Response(200, json={"handle": "nobody"}), "no user id"),
    ],
    ids=["404", "a-list", "a-boolean-id", "an-empty-id", "a-long-id", "no-id"],
)
def test_me_without_a_usable_user_is_a_figma_error_never_a_user(answer: httpx.Response, says: str) -> None:
    from figma_auth.figma import TokenRejected

    figma, _, _ = client([answer])
    with pytest.raises(FigmaAuthError, match=says) as raised:
        figma.me("t")
    assert not isinstance(raised.value, TokenRejected)


def test_me_takes_an_id_of_exactly_128_characters() -> None:
    figma, _, _ = client([httpx.Response(200, json={"id": "9" * 128})])
    assert figma.me("t").id == "9" * 128


# -- the proxy's call, as Figma is asked and as its answer is passed on ------------------------------

FIGMAS_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Retry-After": "7",
    "X-Figma-Plan-Tier": "enterprise",
    "X-RateLimit-Remaining": "3",
    "RateLimit-Reset": "60",
    "Set-Cookie": "figma=secret",
    "Server": "figma",
}


def test_a_proxied_call_carries_the_users_token_and_the_body_and_nothing_else_of_the_clients() -> None:
    figma, seen, _ = client([httpx.Response(201, headers=FIGMAS_HEADERS, content=b'{"id": "1"}')])

    answer = figma.forward(
        "/v1/files/K/comments?as=1", method="POST", token="figu_t", body=b'{"message": "hi"}', content_type="text/x"
    )

    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "https://api.figma.test/v1/files/K/comments?as=1")
    assert request.content == b'{"message": "hi"}'
    assert {k: v for k, v in request.headers.items() if k not in ("host", "content-length", "connection")} == {
        "authorization": "Bearer figu_t", "accept": "application/json", "accept-encoding": "gzip",
        "content-type": "text/x", "user-agent": request.headers["user-agent"],
    }  # fmt: skip
    timeouts = request.extensions["timeout"]
    assert (timeouts["connect"], timeouts["pool"]) == (3.0, 25.0)  # read: shortened as the body arrives
    assert (answer.status, answer.body, answer.content_type, answer.encoding) == (
        201, b'{"id": "1"}', "application/json; charset=utf-8", None
    )  # fmt: skip
    assert answer.headers == {
        "retry-after": "7", "x-figma-plan-tier": "enterprise", "x-ratelimit-remaining": "3", "ratelimit-reset": "60"
    }  # fmt: skip


def test_a_proxied_call_without_a_body_sends_no_content_type_and_an_untyped_answer_is_json() -> None:
    import gzip as gz

    packed = gz.compress(b"{}")
    figma, seen, _ = client([httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=packed)])
    answer = figma.forward("/v1/me", method="GET", token="t", body=None, content_type=None)
    assert "content-type" not in seen[0].headers and seen[0].content == b""
    assert (answer.body, answer.content_type, answer.encoding) == (b"{}", "application/json", None)  # decoded


def test_an_answer_declared_exactly_at_the_limit_is_read() -> None:
    figma, _, _ = client([httpx.Response(200, content=b"x" * 100)])
    answer = figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None, max_bytes=100)
    assert answer.body == b"x" * 100


def test_an_overflowing_answer_hands_on_its_type_and_encoding_and_answers_with_figmas_status_and_headers() -> None:
    import gzip as gz

    from figma_auth.figma import HOLD_BYTES

    packed = gz.compress(bytes(range(256)) * (HOLD_BYTES // 256 + 4096), compresslevel=0)
    headers = {**FIGMAS_HEADERS, "Content-Encoding": "gzip"}
    figma, _, _ = client([httpx.Response(203, headers=headers, stream=httpx.ByteStream(packed))])
    handed: list[tuple[bytes, str, str | None]] = []

    answer = figma.forward(
        "/v1/files/K", method="GET", token="t", body=None, content_type=None, gzip=True,
        overflow=lambda chunks, ctype, enc: handed.append((b"".join(chunks), ctype, enc)),
    )  # fmt: skip

    assert handed == [(packed, "application/json; charset=utf-8", "gzip")]
    assert (answer.status, answer.body, answer.content_type, answer.encoding, answer.overflowed) == (
        203, b"", "application/json; charset=utf-8", "gzip", True
    )  # fmt: skip
    assert answer.headers["retry-after"] == "7" and "set-cookie" not in answer.headers


def test_a_proxied_call_figma_never_answers_is_figma_unavailable_502() -> None:
    figma, seen, _ = client([httpx.ConnectError("refused")])
    with pytest.raises(FigmaUnavailable, match="Figma did not answer in time") as failed:
        figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None)
    assert failed.value.status == 502 and len(seen) == 1


# -- reading an answer within its time and size --------------------------------------------------------


def streamed(timeouts: dict[str, float | None]) -> httpx.Response:
    request = httpx.Request("GET", "https://api.figma.test/v1/files/K", extensions={"timeout": timeouts})
    return httpx.Response(200, request=request)


def test_each_read_after_a_chunk_may_wait_only_the_time_left_of_the_whole() -> None:
    from figma_auth.figma import within_time

    timeouts: dict[str, float | None] = {"read": 25.0, "connect": 3.0}
    chunks = list(within_time(streamed(timeouts), iter([b"ab", b"cd"]), 5.0, limit=4))
    assert chunks == [b"ab", b"cd"]  # exactly the limit is read
    assert timeouts["read"] is not None and 4.0 < timeouts["read"] <= 5.0 and timeouts["connect"] == 3.0
    unset: dict[str, float | None] = {"read": None}
    list(within_time(streamed(unset), iter([b"ab"]), 5.0, limit=4))
    assert unset["read"] is not None and 4.0 < unset["read"] <= 5.0


def test_an_answer_with_under_a_second_left_is_read_while_it_arrives_in_time() -> None:
    from figma_auth.figma import within_time

    assert list(within_time(streamed({"read": 0.9}), iter([b"ab", b"cd"]), 0.9, limit=4)) == [b"ab", b"cd"]


def test_a_read_timeout_already_shorter_than_the_time_left_is_never_lengthened() -> None:
    from figma_auth.figma import within_time

    timeouts: dict[str, float | None] = {"read": 2.0}
    list(within_time(streamed(timeouts), iter([b"ab", b"cd"]), 5.0, limit=4))
    assert timeouts["read"] == 2.0


def test_an_answer_whose_time_is_spent_is_figma_unavailable_502_and_one_over_its_size_too_large() -> None:
    from figma_auth.errors import ResponseTooLarge
    from figma_auth.figma import within_time

    with pytest.raises(FigmaUnavailable, match="Figma's answer did not arrive in time") as late:
        list(within_time(streamed({"read": 25.0}), iter([b"ab", b"cd"]), 0.0, limit=10))
    assert late.value.status == 502
    with pytest.raises(ResponseTooLarge):
        list(within_time(streamed({"read": 25.0}), iter([b"abc", b"d"]), 5.0, limit=3))
    with pytest.raises(ResponseTooLarge):
        list(within_time(streamed({"read": 25.0}), iter([b"ab", b"c"]), 5.0, limit=2))


def test_each_try_is_given_only_the_time_the_request_has_left_and_none_under_a_second() -> None:
    from figma_auth import deadline

    figma, seen, _ = client([httpx.Response(200, json={"id": "1"}), httpx.Response(200, json={"id": "1"})])
    token = deadline.start(int((deadline.MARGIN_SECONDS + 2.5) * 1000))
    try:
        figma.me("t")
    finally:
        deadline.finish(token)
    timeouts = seen[0].extensions["timeout"]
    assert 2.0 < timeouts["connect"] <= 2.5 and timeouts["read"] <= timeouts["connect"]  # read: less as it arrives

    token = deadline.start(int((deadline.MARGIN_SECONDS + 0.5) * 1000))
    try:
        with pytest.raises(FigmaUnavailable, match="too slow to answer within this request") as slow:
            figma.me("t")
    finally:
        deadline.finish(token)
    assert slow.value.retry_after == 2 and len(seen) == 1


def test_a_retry_the_request_has_no_time_for_says_what_figma_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from figma_auth import deadline

    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # the longest jitter: 250 ms
    # 1.2 s left: a try fits (1 s), but not a wait (250 ms, or Retry-After's 1 s) and another try
    answers = (
        (httpx.Response(503, headers={"Retry-After": "1"}), "Figma answered HTTP 503"),
        (httpx.ReadTimeout("slow"), "no answer"),
    )
    for answer, says in answers:
        figma, seen, slept = client([answer])
        token = deadline.start(int((deadline.MARGIN_SECONDS + 1.2) * 1000))
        try:
            with pytest.raises(FigmaUnavailable, match=says) as gave_up:
                figma.me("t")
        finally:
            deadline.finish(token)
        assert gave_up.value.retry_after == 1 and slept == [] and len(seen) == 1


# -- answers Figma compresses ---------------------------------------------------------------------
# httpx asks for them (Accept-Encoding: gzip, deflate) on the OAuth and /v1/me calls; Figma's
# CloudFront may honour it (docs/FIGMA.md: Vary: Accept-Encoding).


class _CompressingFigma(_Served):
    """Figma's /v1/me and refresh over plain HTTP on 127.0.0.1, each answer compressed with
    ``encoding`` when the request accepts it; keeps the Accept-Encoding headers it received."""

    ANSWERS = {
        "/v1/me": {"id": "1143925780461227139", "handle": "Ada Lovelace", "email": "ada@example.com"},
        "/v1/oauth/refresh": {"access_token": "figu_new-token-000000000000", "expires_in": 3600},
    }

    def __init__(self, encoding: str) -> None:
        import gzip
        import json
        import zlib
        from http.server import BaseHTTPRequestHandler, HTTPServer

        self.accepted: list[str] = []
        accepted, answers = self.accepted, self.ANSWERS

        def compress(body: bytes) -> bytes:
            return gzip.compress(body) if encoding == "gzip" else zlib.compress(body)

        class Answer(BaseHTTPRequestHandler):
            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                accepted.append(self.headers.get("Accept-Encoding", ""))
                body = json.dumps(answers[self.path]).encode()
                asked = encoding in self.headers.get("Accept-Encoding", "")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                if asked:
                    body = compress(body)
                    self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer  # noqa: N815 - http.server's names

            def log_message(self, *args: object) -> None:
                pass

        server = HTTPServer(("127.0.0.1", 0), Answer)
        self._serve(server, f"http://127.0.0.1:{server.server_address[1]}")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_an_identity_or_refresh_answer_figma_compressed_is_read_once_decoded(encoding: str) -> None:
    figma = _CompressingFigma(encoding)
    try:
        client = FigmaClient(api_url=figma.url, client_id="cid", client_secret=lambda: "secret", sleep=lambda s: None)
        user = client.me("figu_access-token")
        grant = client.refresh(GRANT, now=lambda: NOW)
    finally:
        figma.close()
    assert all(encoding in accepted for accepted in figma.accepted) and len(figma.accepted) == 2  # it was asked
    assert (user.id, user.handle) == ("1143925780461227139", "Ada Lovelace")
    assert (grant.access_token, grant.refresh_token) == ("figu_new-token-000000000000", GRANT.refresh_token)


def test_an_answer_whose_body_is_not_what_its_content_encoding_says_is_a_figma_error_never_a_500() -> None:
    from figma_auth.errors import FigmaError

    def corrupt() -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip at all"))

    figma, seen, slept = client([corrupt(), corrupt(), corrupt()])
    with pytest.raises(FigmaError) as identity:
        figma.me("t")
    with pytest.raises(FigmaError) as refresh:
        figma.refresh(GRANT, now=lambda: NOW)
    with pytest.raises(FigmaError) as proxied:
        figma.forward("/v1/files/K", method="GET", token="t", body=None, content_type=None)  # decoded for its caller

    for refused in (identity, refresh, proxied):
        assert (refused.value.code, refused.value.status) == ("figma_error", 502)
    assert len(seen) == 3 and slept == []  # a body Figma sent broken is not asked for again
