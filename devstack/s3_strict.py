"""S3 in front of moto, as strict as S3 where a browser or a presigned URL can tell.

moto's server answers a presigned URL whose signature was tampered with (200) and adds
permissive CORS headers to every answer (flask-cors echoes any ``Origin``, never with
``Access-Control-Allow-Credentials``). Browser tests against that prove nothing about S3, so
``S3Strict`` wraps moto's WSGI app and, for S3 requests only:

* checks a presigned request (SigV4 query authentication, ``UNSIGNED-PAYLOAD``) as S3 does:
  malformed parameters (400 ``AuthorizationQueryParametersError``), an access key no local
  identity has (403 ``InvalidAccessKeyId``), ``X-Amz-Date`` + ``X-Amz-Expires`` past (403
  ``AccessDenied`` "Request has expired"), a signature that is not the one S3 computes (403
  ``SignatureDoesNotMatch``, with the string to sign and the canonical request S3 shows), and
  an ``Authorization`` header beside the query's signature (400 ``InvalidArgument``);
* drops every CORS header moto added and answers CORS from the bucket's configuration the
  way S3 evaluates it: the first rule whose ``AllowedOrigins`` (one ``*`` allowed in each, the
  literal ``null`` for a tainted origin) and ``AllowedMethods`` match decide; a preflight
  also needs each ``Access-Control-Request-Headers`` name in ``AllowedHeaders``. A rule origin
  of exactly ``*`` answers ``Access-Control-Allow-Origin: *``; any other answers the request's
  origin and ``Access-Control-Allow-Credentials: true``. No matching rule: no CORS headers
  (a refused preflight: 403 ``AccessForbidden`` "CORSResponse: …").

Requests are path-style (``/{bucket}/{key}``), as boto3 sends them to an IP endpoint. Sources:
docs/LOCAL.md, "S3 locally".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_EXPIRES = 604800  # a week: S3's limit for a SigV4 presigned URL
CORS_VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
CORS_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
    "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
    "whitelisted by the resource's CORS spec."
)
CORS_NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)
ONE_AUTH_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
    "parameter or the Authorization header should be specified"
)
_QUERY_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
_NOT_S3_PATHS = ("/moto-api", "/_devstack", "/latest/", "/favicon.ico")
_READS = ("GET", "HEAD", "OPTIONS")
_STAMP = "%Y%m%dT%H%M%SZ"
_EXPIRED = ("X-Amz-Expires", "Expires", "ServerTime")  # what S3's "Request has expired" names

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class S3Error:
    """An error S3 answers with its XML body: ``details`` are the extra elements S3 adds."""

    status: int
    code: str
    message: str
    details: tuple[tuple[str, str], ...] = ()

    def body(self, request_id: str) -> bytes:
        extra = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in self.details)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{extra}"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        ).encode()


# -- which requests are S3's, and which leave nothing a reset would forget --------------------


def _scope_service(credential: str) -> str:
    """The service of a SigV4 credential (``KEY/DATE/REGION/SERVICE/aws4_request``)."""
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else ""


def query_pairs(query: str) -> list[tuple[str, str]]:
    """The query's (name, value) pairs, percent-decoded (``+`` stays ``+``: SigV4 never uses it
    for a space), blank values kept (``?uploads``)."""
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def is_s3(environ: Mapping[str, Any]) -> bool:
    """Whether moto's dispatcher sends this request to S3: signed for ``s3`` (header or query),
    or not SigV4-signed, carrying no ``X-Amz-Target`` nor a query-protocol form (moto's default)."""
    if str(environ.get("PATH_INFO", "")).startswith(_NOT_S3_PATHS) or environ.get("HTTP_X_AMZ_TARGET"):
        return False
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    if authorization.startswith(f"{ALGORITHM} "):
        credential = authorization.partition("Credential=")[2].partition(",")[0]
        return _scope_service(credential) == "s3"
    presigned = dict(query_pairs(str(environ.get("QUERY_STRING", "")))).get("X-Amz-Credential")
    if presigned is not None:
        return _scope_service(presigned) == "s3"
    return not str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded")


def bucket_and_key(path: str) -> tuple[str, str]:
    """``/{bucket}/{key…}`` as (bucket, key); either may be empty."""
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def s3_leaves_nothing(method: str, path: str, query: str) -> bool:
    """Whether an S3 request leaves nothing a reset must forget: any object-level request
    (objects are keyed by their content, harmless to the next test), multipart uploads, a
    multi-object ``POST ?delete`` and every read. Bucket-level writes (create or delete a
    bucket, put its CORS, lifecycle or policy) change the world."""
    bucket, key = bucket_and_key(path)
    if key or method in _READS:
        return True
    return bool(bucket) and method == "POST" and "delete" in dict(query_pairs(query))


# -- presigned URLs: SigV4 query authentication ------------------------------------------------


@dataclass(frozen=True)
class Presigned:
    """A presigned request's authentication parameters."""

    access_key: str
    scope: str  # DATE/REGION/SERVICE/aws4_request
    amz_date: str
    signed_at: datetime
    expires: int
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def expires_at(self) -> datetime:
        return self.signed_at + timedelta(seconds=self.expires)


def _malformed(message: str) -> S3Error:
    return S3Error(400, "AuthorizationQueryParametersError", message)


def parse_presigned(params: Mapping[str, str]) -> Presigned | S3Error:
    """The presigned parameters, or S3's 400 for a malformed set."""
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        return _malformed(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    if any(name not in params for name in (*_QUERY_PARAMS, "X-Amz-Expires")):
        return _malformed(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        )
    access_key, _, scope = params["X-Amz-Credential"].partition("/")
    if len(scope.split("/")) != 4 or not scope.endswith("/aws4_request"):
        return _malformed("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed.")
    try:
        signed_at = datetime.strptime(params["X-Amz-Date"], _STAMP).replace(tzinfo=UTC)
        expires = int(params["X-Amz-Expires"])
    except ValueError:
        return _malformed("X-Amz-Date must be in the ISO8601 Long Format and X-Amz-Expires a number of seconds")
    if expires < 0:
        return _malformed("X-Amz-Expires must be non-negative")
    if expires > MAX_EXPIRES:
        return _malformed(f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES}")
    signed = tuple(params["X-Amz-SignedHeaders"].split(";"))
    return Presigned(access_key, scope, params["X-Amz-Date"], signed_at, expires, signed, params["X-Amz-Signature"])


def canonical_request(
    method: str, path: bytes, pairs: Sequence[tuple[str, str]], headers: Mapping[str, str], signed: Sequence[str]
) -> str:
    """S3's canonical request of a presigned request: the path URI-encoded once (``/`` kept),
    every query parameter but the signature URI-encoded and sorted, the signed headers'
    trimmed values, and ``UNSIGNED-PAYLOAD``."""
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs if k != "X-Amz-Signature")
    lines = [
        method,
        quote(path, safe="/-_.~"),
        "&".join(f"{k}={v}" for k, v in encoded),
        *(f"{name}:{' '.join(headers.get(name, '').split())}" for name in signed),
        "",
        ";".join(signed),
        UNSIGNED_PAYLOAD,
    ]
    return "\n".join(lines)


def string_to_sign(presigned: Presigned, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{presigned.amz_date}\n{presigned.scope}\n{digest}"


def signature(secret: str, scope: str, to_sign: str) -> str:
    """SigV4's signature: the signing key derived from the secret along the scope, over ``to_sign``."""
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def secret_for(access_key: str) -> str | None:
    """The secret of an access key moto accepts: a local identity's (devstack/sigv4.py: the
    fake credentials, DEVSTACK_IAM_USERS), else one moto's IAM issued."""
    from devstack.sigv4 import identities

    identity = identities().get(access_key)
    if identity is not None:
        return identity.secret
    from moto.iam.models import iam_backends

    for account in list(iam_backends.values()):
        for backend in list(account.values()):
            key = backend.access_keys.get(access_key)
            if key is not None:
                return str(key.secret_access_key)
    return None


def _request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers by lower-case name, as WSGI holds them."""
    found = {"host": str(environ.get("HTTP_HOST", ""))}
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            found[name[5:].replace("_", "-").lower()] = str(value)
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            found[name.replace("_", "-").lower()] = str(environ[name])
    return found


def check_presigned(environ: Mapping[str, Any], now: datetime) -> S3Error | None:
    """None when the presigned request is one S3 accepts, else S3's error for it."""
    pairs = query_pairs(str(environ.get("QUERY_STRING", "")))
    if "HTTP_AUTHORIZATION" in environ:
        details = (("ArgumentName", "Authorization"), ("ArgumentValue", str(environ["HTTP_AUTHORIZATION"])))
        return S3Error(400, "InvalidArgument", ONE_AUTH_MECHANISM, details)
    presigned = parse_presigned(dict(pairs))
    if isinstance(presigned, S3Error):
        return presigned
    secret = secret_for(presigned.access_key)
    if secret is None:
        message = "The AWS Access Key Id you provided does not exist in our records."
        return S3Error(403, "InvalidAccessKeyId", message, (("AWSAccessKeyId", presigned.access_key),))
    if now > presigned.expires_at:
        times = (str(presigned.expires), f"{presigned.expires_at:%Y-%m-%dT%H:%M:%SZ}", f"{now:%Y-%m-%dT%H:%M:%SZ}")
        return S3Error(403, "AccessDenied", "Request has expired", tuple(zip(_EXPIRED, times, strict=True)))
    path = str(environ.get("PATH_INFO", "")).encode("latin-1")  # WSGI: the decoded path's UTF-8 bytes
    method = str(environ.get("REQUEST_METHOD", "GET"))
    canonical = canonical_request(method, path, pairs, _request_headers(environ), presigned.signed_headers)
    to_sign = string_to_sign(presigned, canonical)
    if hmac.compare_digest(signature(secret, presigned.scope, to_sign), presigned.signature):
        return None
    details = (
        ("AWSAccessKeyId", presigned.access_key),
        ("StringToSign", to_sign),
        ("SignatureProvided", presigned.signature),
        ("CanonicalRequest", canonical),
    )
    return S3Error(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH, details)


# -- CORS, as S3 evaluates a bucket's configuration ---------------------------------------------


@dataclass(frozen=True)
class CorsRule:
    """One CORSRule of a bucket's configuration."""

    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None

    @classmethod
    def from_moto(cls, rule: Any) -> CorsRule:
        """A rule of moto's bucket (``moto.s3.models.CorsRule``: lists, or None, and a string age)."""
        age = rule.max_age_seconds
        return cls(
            tuple(rule.allowed_origins or ()),
            tuple(rule.allowed_methods or ()),
            tuple(rule.allowed_headers or ()),
            tuple(rule.exposed_headers or ()),
            int(age) if age not in (None, "") else None,
        )

    def matching_origin(self, origin: str) -> str | None:
        """The first of the rule's origins that matches ``origin``."""
        return next((allowed for allowed in self.allowed_origins if wildcard_match(allowed, origin)), None)

    def allows_headers(self, requested: Sequence[str]) -> bool:
        """Whether every requested header name matches one of ``AllowedHeaders`` (case-insensitive)."""
        allowed = [pattern.lower() for pattern in self.allowed_headers]
        return all(any(wildcard_match(pattern, name.lower()) for pattern in allowed) for name in requested)


def wildcard_match(pattern: str, value: str) -> bool:
    """S3's match of an AllowedOrigin or AllowedHeader: exact, or with one ``*`` standing for any
    run of characters (``*`` alone matches everything; ``null`` matches only ``null``)."""
    if "*" not in pattern:
        return pattern == value
    prefix, _, suffix = pattern.partition("*")
    return len(value) >= len(prefix) + len(suffix) and value.startswith(prefix) and value.endswith(suffix)


def first_match(
    rules: Sequence[CorsRule], origin: str, method: str, requested: Sequence[str] = ()
) -> tuple[CorsRule, str] | None:
    """The first rule that matches, with the rule origin that matched; None when none does."""
    for rule in rules:
        allowed = rule.matching_origin(origin)
        if allowed is not None and method in rule.allowed_methods and rule.allows_headers(requested):
            return rule, allowed
    return None


def cors_headers(
    rule: CorsRule, allowed_origin: str, origin: str, requested: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """S3's CORS headers for a matched rule (``requested``: a preflight's header names, echoed)."""
    headers = [("Access-Control-Allow-Origin", "*" if allowed_origin == "*" else origin)]
    if allowed_origin != "*":
        headers.append(("Access-Control-Allow-Credentials", "true"))
    headers.append(("Access-Control-Allow-Methods", ", ".join(rule.allowed_methods)))
    if requested:
        headers.append(("Access-Control-Allow-Headers", ", ".join(requested)))
    if rule.expose_headers:
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule.expose_headers)))
    if rule.max_age is not None:
        headers.append(("Access-Control-Max-Age", str(rule.max_age)))
    headers.append(("Vary", CORS_VARY))
    return headers


def bucket_cors(bucket: str) -> list[CorsRule] | None:
    """The bucket's CORS rules in moto's backend; None when the bucket or its configuration is missing."""
    from moto.s3.models import s3_backends

    where = s3_backends.bucket_accounts.get(bucket)
    if where is None:
        return None
    partition, account = where
    found = s3_backends[account][partition].buckets.get(bucket)
    rules = [CorsRule.from_moto(rule) for rule in (found.cors if found is not None else [])]
    return rules or None


def _is_cors_header(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("access-control-") or lowered == "vary"


def _requested_headers(environ: Mapping[str, Any]) -> list[str]:
    raw = str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
    return [name.strip().lower() for name in raw.split(",") if name.strip()]


class S3Strict:
    """moto's WSGI app with S3's presigned-URL checks and S3's CORS (see the module's docstring).
    ``clock``: now, timezone-aware (tests move it instead of sleeping)."""

    def __init__(self, app: WsgiApp, *, clock: Clock | None = None) -> None:
        self.app = app
        self.clock: Clock = clock or (lambda: datetime.now(UTC))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not is_s3(environ):
            return self.app(environ, start_response)
        origin = environ.get("HTTP_ORIGIN")
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if method == "OPTIONS" and origin is not None and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return self._preflight(environ, start_response, str(origin))
        cors = self._cors_for(environ, method)
        if "X-Amz-Algorithm" in dict(query_pairs(str(environ.get("QUERY_STRING", "")))):
            refused = check_presigned(environ, self.clock())
            if refused is not None:
                return self._error(start_response, refused, cors, head=method == "HEAD")

        def with_s3_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if not _is_cors_header(name)]
            return start_response(status, kept + cors, exc_info)

        return self.app(environ, with_s3_cors)

    @staticmethod
    def _cors_for(environ: Mapping[str, Any], method: str) -> list[tuple[str, str]]:
        """The CORS headers S3 adds to this (non-preflight) request's answer: none without an
        ``Origin``, a configuration or a matching rule."""
        origin = environ.get("HTTP_ORIGIN")
        rules = bucket_cors(bucket_and_key(str(environ.get("PATH_INFO", "")))[0]) if origin is not None else None
        matched = first_match(rules, str(origin), method) if rules else None
        return cors_headers(matched[0], matched[1], str(origin)) if matched else []

    def _preflight(
        self, environ: Mapping[str, Any], start_response: Callable[..., Any], origin: str
    ) -> Iterable[bytes]:
        """S3's answer to a preflight: 200 with the matching rule's headers, else 403."""
        rules = bucket_cors(bucket_and_key(str(environ.get("PATH_INFO", "")))[0])
        if not rules:
            return self._error(start_response, S3Error(403, "AccessForbidden", CORS_NOT_ENABLED), [])
        requested = _requested_headers(environ)
        wanted = str(environ["HTTP_ACCESS_CONTROL_REQUEST_METHOD"])
        matched = first_match(rules, origin, wanted, requested)
        if matched is None:
            details = (("Method", wanted), ("ResourceType", "OBJECT"))
            return self._error(start_response, S3Error(403, "AccessForbidden", CORS_NOT_ALLOWED, details), [])
        headers = cors_headers(matched[0], matched[1], origin, requested)
        start_response("200 OK", [*headers, ("Content-Length", "0"), *self._ids()])
        return [b""]

    def _error(
        self, start_response: Callable[..., Any], error: S3Error, cors: list[tuple[str, str]], *, head: bool = False
    ) -> Iterable[bytes]:
        request_id = secrets.token_hex(8).upper()
        body = b"" if head else error.body(request_id)
        reason = {400: "Bad Request", 403: "Forbidden"}.get(error.status, "Error")
        headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(body))), *cors]
        start_response(f"{error.status} {reason}", [*headers, *self._ids(request_id)])
        return [body]

    @staticmethod
    def _ids(request_id: str | None = None) -> list[tuple[str, str]]:
        request_id = request_id or secrets.token_hex(8).upper()
        return [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
