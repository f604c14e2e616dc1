"""The composition root: one ``Container`` per Lambda container, whose parts (settings, AWS
clients, the store, the vault, the Figma client, the publisher, the refresh engine, the JWT
signer) and use cases are cached properties, each built the first time something asks for it.

Nothing is built at import, and nothing a request does not use is built for it: a session read
that needs no refresh never makes a KMS client, the webhook receiver never the Figma client.
What calls AWS or Figma lazily takes a typed provider (``Callable[[], KMSClient]``,
``FigmaOnFirstUse``), so a use case can be built without its clients. A test, or a SnapStart
restore, drops the container (``runtime.reset``): there is no list of caches to keep.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self

from figma_auth import aws
from figma_auth.settings import Settings
from figma_auth.times import utcnow

if TYPE_CHECKING:  # the use cases load on the first request that needs them, not at import
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client

    from figma_auth.bodies import Bodies
    from figma_auth.client_documents import ClientDocuments
    from figma_auth.engine import Publish, RefreshEngine
    from figma_auth.figma import CodeExchange, FigmaClient, FigmaUser, Overflow, ProxyResponse, RetryPolicy
    from figma_auth.oauth import FigmaGrant
    from figma_auth.signing import JwtSigner
    from figma_auth.sockets import Sockets
    from figma_auth.store import Store
    from figma_auth.usecases.agent_tokens import AgentTokens
    from figma_auth.usecases.agents import AgentAuthorization
    from figma_auth.usecases.authenticate import Authenticate
    from figma_auth.usecases.authorize import StartSignIn
    from figma_auth.usecases.connection_list import ListConnections
    from figma_auth.usecases.connections import BackendConnections
    from figma_auth.usecases.device import DeviceSignIn
    from figma_auth.usecases.device_verify import DeviceVerification
    from figma_auth.usecases.discovery import Discovery
    from figma_auth.usecases.file_cache import ReadOnce
    from figma_auth.usecases.jwts import AppJwts
    from figma_auth.usecases.live import LiveWatches
    from figma_auth.usecases.proxy import FigmaProxy
    from figma_auth.usecases.push import Push
    from figma_auth.usecases.rate_limits import ClearRateLimits, RateLimitLedger
    from figma_auth.usecases.realtime import Realtime
    from figma_auth.usecases.sessions import EndUser, Sessions
    from figma_auth.usecases.signin import CompleteSignIn, RedeemTicket
    from figma_auth.usecases.webhook_receiver import ReceiveDelivery, Relay
    from figma_auth.usecases.webhook_reconcile import Reconcile
    from figma_auth.usecases.webhooks import ManageWebhooks
    from figma_auth.vault import Vault


class FigmaOnFirstUse:
    """The Figma client, built (module, TLS context, connection pool) on its first call: a
    request that never calls Figma never pays for it."""

    def __init__(self, build: Callable[[], FigmaClient]) -> None:
        self._build = build
        self._client: FigmaClient | None = None

    @property
    def client(self) -> FigmaClient:
        if self._client is None:
            self._client = self._build()
        return self._client

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None, scopes: tuple[str, ...], now: datetime
    ) -> CodeExchange:
        return self.client.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier, scopes=scopes, now=now
        )

    def refresh(self, grant: FigmaGrant, *, now: Callable[[], datetime]) -> FigmaGrant:
        return self.client.refresh(grant, now=now)

    def me(self, access_token: str) -> FigmaUser:
        return self.client.me(access_token)

    def forward(
        self,
        target: str,
        *,
        method: str,
        token: str,
        body: bytes | None,
        content_type: str | None,
        gzip: bool = False,
        overflow: Overflow | None = None,
        max_bytes: int | None = None,
    ) -> ProxyResponse:
        return self.client.forward(
            target,
            method=method,
            token=token,
            body=body,
            content_type=content_type,
            gzip=gzip,
            overflow=overflow,
            max_bytes=max_bytes,
        )

    def with_retry(self, retry: RetryPolicy) -> FigmaClient:
        return self.client.with_retry(retry)


class Parts:
    """A Lambda container's collaborators, each built once, on first use."""

    def __init__(self, settings: Settings | None = None, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._settings = settings
        self.clock = clock

    def given(self, **parts: object) -> Self:
        """This container with ``parts`` given instead of built (a benchmark's model DynamoDB, a
        test's recording publisher): each must name one of its cached parts."""
        for name, part in parts.items():
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise AttributeError(f"a Container has no part {name!r}")
            self.__dict__[name] = part
        return self

    # -- the parts ---------------------------------------------------------------------------

    @cached_property
    def settings(self) -> Settings:
        return self._settings if self._settings is not None else Settings.from_env()

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return aws.dynamodb(aws.session())

    @cached_property
    def dynamodb_paging(self) -> DynamoDBClient:
        """For a batch reading many pages (the scheduled jobs): longer read timeouts."""
        return aws.dynamodb_paging(aws.session())

    @cached_property
    def kms(self) -> KMSClient:
        return aws.kms(aws.session())

    @cached_property
    def events(self) -> EventBridgeClient:
        return aws.events(aws.session())

    @cached_property
    def s3(self) -> S3Client:
        return aws.s3(aws.session())

    def s3_client(self) -> S3Client:
        """The S3 client's provider: built when a body is first stored or read."""
        return self.s3

    @cached_property
    def bodies(self) -> Bodies | None:
        """Large answers and cached reads in BODIES_BUCKET (None: no bucket configured)."""
        from figma_auth.bodies import Bodies

        bucket = self.settings.bodies_bucket
        return Bodies(bucket=bucket, kms_key_id=self.settings.kms_key_id, s3=self.s3_client) if bucket else None

    @cached_property
    def sockets(self) -> Sockets:
        """The realtime API's sockets (its management API, REALTIME_ENDPOINT), the client built on first use."""
        from figma_auth.sockets import Sockets

        built: list[Any] = []

        def client() -> Any:
            if not built:
                endpoint = self.settings.realtime_endpoint
                if not endpoint:
                    raise RuntimeError("REALTIME_ENDPOINT is not set: the realtime API's management endpoint")
                built.append(aws.management(aws.session(), endpoint))
            return built[0]

        return Sockets(client=client)

    def kms_client(self) -> KMSClient:
        """The KMS client's provider: built when the vault or the signer first calls KMS."""
        return self.kms

    @cached_property
    def store(self) -> Store:
        from figma_auth.store import Store

        return Store(table_name=self.settings.table_name, client=self.dynamodb)

    @cached_property
    def pages(self) -> Store:
        """The store over the paging client (the scheduled jobs' long queries)."""
        from figma_auth.store import Store

        return Store(table_name=self.settings.table_name, client=self.dynamodb_paging)

    @cached_property
    def vault(self) -> Vault:
        from figma_auth.vault import Vault

        return Vault(kms=self.kms_client, key_id=self.settings.kms_key_id)

    @cached_property
    def signer(self) -> JwtSigner | None:
        from figma_auth.signing import JwtSigner

        config = self.settings
        if not config.jwt_key_id:
            return None
        return JwtSigner(kms=self.kms_client, key_id=config.jwt_key_id, also_serve=config.jwt_verify_key_ids)

    @cached_property
    def figma(self) -> FigmaOnFirstUse:
        from figma_auth.client_secret import figma_client

        return FigmaOnFirstUse(lambda: figma_client(self.settings, self.client_secret))

    @cached_property
    def client_secret(self) -> Callable[[], str]:
        """The Figma app's client secret, read when first needed (Secrets Manager in AWS)."""
        from figma_auth.client_secret import client_secret

        return client_secret(self.settings, lambda: aws.secretsmanager(aws.session()))

    @cached_property
    def publish(self) -> Publish:
        """Notifications (never fail the user's request)."""
        from figma_auth.publisher import publisher

        return publisher(lambda: self.events, self.settings.event_bus_name)

    @cached_property
    def publish_strictly(self) -> Publish:
        """The webhook relay's (its event is the whole point: a failure raises)."""
        from figma_auth.publisher import publisher

        return publisher(lambda: self.events, self.settings.event_bus_name, strict=True)

    @cached_property
    def engine(self) -> RefreshEngine:
        """The one refresh engine, for every use case that renews grants."""
        from figma_auth.engine import RefreshEngine

        return RefreshEngine(
            store=self.store, vault=self.vault, figma=self.figma, clock=self.clock, publish=self.publish
        )

    def ledger(self) -> RateLimitLedger:
        from figma_auth.usecases.rate_limits import RateLimitLedger

        return RateLimitLedger(store=self.store, publish=self.publish, clock=self.clock)


class UseCases(Parts):
    """The parts, and the use cases the functions serve with them: each built once, on first use."""

    @cached_property
    def authenticate(self) -> Authenticate:
        from figma_auth.usecases.authenticate import Authenticate

        return Authenticate(store=self.store, clock=self.clock)

    @cached_property
    def start_sign_in(self) -> StartSignIn:
        from figma_auth.usecases.authorize import StartSignIn

        return StartSignIn(settings=self.settings, store=self.store, authenticate=self.authenticate, clock=self.clock)

    @cached_property
    def complete_sign_in(self) -> CompleteSignIn:
        from figma_auth.usecases.signin import CompleteSignIn

        return CompleteSignIn(
            store=self.store,
            vault=self.vault,
            figma=self.figma,
            clock=self.clock,
            publish=self.publish,
            restart=self.start_sign_in.begin,
            session_ttl_days=self.settings.session_ttl_days,
            offline_access=self.settings.offline_access,
        )

    @cached_property
    def end_user(self) -> EndUser:
        from figma_auth.usecases.sessions import EndUser

        return EndUser(
            store=self.store,
            publish=self.publish,
            offline_access=self.settings.offline_access,
            clock=self.clock,
            drop_webhooks=lambda user_id, keep: self.webhooks.drop_all(user_id, keep_undeleted=keep),
        )

    @cached_property
    def sessions(self) -> Sessions:
        from figma_auth.usecases.sessions import Sessions

        return Sessions(
            store=self.store,
            authenticate=self.authenticate,
            engine=self.engine,
            end_user=self.end_user,
            clock=self.clock,
            leeway_seconds=self.settings.refresh_leeway_seconds,
            expose_token=self.settings.expose_provider_token,
        )

    @cached_property
    def redeem_ticket(self) -> RedeemTicket:
        from figma_auth.usecases.signin import RedeemTicket

        return RedeemTicket(store=self.store, view=self.sessions.view, clock=self.clock)

    @cached_property
    def device(self) -> DeviceSignIn:
        from figma_auth.usecases.device import DeviceSignIn

        config = self.settings
        return DeviceSignIn(
            store=self.store,
            login=self.start_sign_in,
            view=self.sessions.view,
            clock=self.clock,
            code_ttl_seconds=config.device_code_ttl_seconds,
            poll_interval_seconds=config.device_poll_interval_seconds,
            session_ttl_days=config.session_ttl_days,
            offline_access=config.offline_access,
        )

    @cached_property
    def device_verification(self) -> DeviceVerification:
        from figma_auth.usecases.device_verify import DeviceVerification

        return DeviceVerification(store=self.store, login=self.start_sign_in, clock=self.clock)

    @cached_property
    def proxy(self) -> FigmaProxy:
        from figma_auth.usecases.proxy import FigmaProxy

        return FigmaProxy(
            store=self.store,
            authenticate=self.authenticate,
            engine=self.engine,
            figma=self.figma,
            ledger=self.ledger(),
            clock=self.clock,
            leeway_seconds=self.settings.refresh_leeway_seconds,
            spill=self.bodies,
            files=self.file_cache,
            max_bytes=self.settings.proxy_max_bytes,
        )

    @cached_property
    def file_cache(self) -> ReadOnce | None:
        """The read-once cache: FILE_CACHE=shared and a bucket for its bodies."""
        from figma_auth.usecases.file_cache import ReadOnce

        if self.bodies is None or self.settings.file_cache == "off":
            return None
        return ReadOnce(index=self.store, bodies=self.bodies, clock=self.clock, days=self.settings.file_cache_days)

    @cached_property
    def webhooks(self) -> ManageWebhooks:
        from figma_auth.usecases.webhooks import ManageWebhooks

        return ManageWebhooks(
            store=self.store,
            engine=self.engine,
            figma=self.figma,
            ledger=self.ledger(),
            clock=self.clock,
            leeway_seconds=self.settings.refresh_leeway_seconds,
        )

    @cached_property
    def relay(self) -> Relay:
        from figma_auth.usecases.webhook_receiver import Relay

        cache = self.file_cache
        return Relay(
            store=self.store,
            publish=self.publish_strictly,
            clock=self.clock,
            forget_file=cache.forget if cache is not None else None,
        )

    @cached_property
    def reconcile(self) -> Reconcile:
        """The scheduled reconciliation: it reads every webhook through the paging client."""
        from figma_auth.usecases.webhook_reconcile import Reconcile

        return Reconcile(
            store=self.pages,
            engine=self.engine,
            figma=self.figma,
            ledger=self.ledger(),
            relay=self.relay,
            leeway_seconds=self.settings.refresh_leeway_seconds,
            clock=self.clock,
            publish=self.publish,
            end_user=self.end_user,
            offline_access=self.settings.offline_access,
            issuer=self.settings.issuer or None,
            live=self.live if self.settings.realtime_endpoint else None,
        )

    @cached_property
    def webhook_receiver(self) -> ReceiveDelivery:
        """The receiver's parts only: the table and EventBridge (no KMS, no Figma client)."""
        from figma_auth.usecases.webhook_receiver import ReceiveDelivery

        return ReceiveDelivery(store=self.store, relay=self.relay, clock=self.clock)

    @cached_property
    def connections(self) -> BackendConnections:
        from figma_auth.usecases.connections import BackendConnections

        return BackendConnections(
            store=self.store,
            engine=self.engine,
            end_user=self.end_user,
            leeway_seconds=self.settings.refresh_leeway_seconds,
        )

    @cached_property
    def connection_list(self) -> ListConnections:
        """The backend's listing: the table, and the cursors' key (from the client secret, read
        when a cursor is first made or opened)."""
        from figma_auth.cursors import cursor_key
        from figma_auth.usecases.connection_list import ListConnections

        secret, table = self.client_secret, self.settings.table_name
        return ListConnections(store=self.store, key=lambda: cursor_key(secret(), table), clock=self.clock)

    @cached_property
    def clear_rate_limits(self) -> ClearRateLimits:
        """The user's or the backend's clear of the rate-limit ledger: the table alone."""
        from figma_auth.usecases.rate_limits import ClearRateLimits

        return ClearRateLimits(store=self.store, authenticate=self.authenticate)

    @cached_property
    def discovery(self) -> Discovery:
        """Settings alone: the metadata costs no AWS call (and no KMS client)."""
        from figma_auth.usecases.discovery import Discovery

        return Discovery(scopes=self.settings.scopes_allowed, jwts=bool(self.settings.jwt_key_id))

    @cached_property
    def jwts(self) -> AppJwts:
        from figma_auth.usecases.jwts import AppJwts

        return AppJwts(
            signer=self.signer,
            authenticate=self.authenticate,
            audience=self.settings.jwt_audience,
            ttl_seconds=self.settings.jwt_ttl_seconds,
            clock=self.clock,
        )

    @cached_property
    def realtime(self) -> Realtime:
        """POST /auth/realtime's tickets and the sockets' $connect / $disconnect."""
        from figma_auth.usecases.realtime import Realtime

        return Realtime(
            store=self.store,
            authenticate=self.authenticate,
            clock=self.clock,
            url=self.settings.realtime_url,
            leave=lambda socket: self.live.leave(socket),
        )

    @cached_property
    def live(self) -> LiveWatches:
        """The sockets' watches: access proven with the watcher's token, one webhook per file and event."""
        from figma_auth.usecases.live import LiveWatches, ProveAccess
        from figma_auth.usecases.proxy import FigmaAsUser

        return LiveWatches(
            store=self.store,
            access=ProveAccess(lambda conn, path: FigmaAsUser(self.proxy, conn).send(path)),
            hooks=self.webhooks,
            sockets=self.sockets,
            events=self.settings.live_events,
            issuer=self.settings.issuer or "",
        )

    @cached_property
    def push(self) -> Push:
        """The push function's: events to the sockets they concern (no KMS, no Figma)."""
        from figma_auth.usecases.push import Push

        return Push(store=self.store, sockets=self.sockets)


class Container(UseCases):
    """Every use case, and the agents' (MCP clients: the authorization code and its tokens)."""

    @cached_property
    def client_documents(self) -> ClientDocuments:
        """Client ID Metadata Documents, cached for this container as their Cache-Control says."""
        from figma_auth.client_documents import ClientDocuments

        return ClientDocuments(allow_loopback=self.settings.oauth_loopback_clients)

    @cached_property
    def agent_authorization(self) -> AgentAuthorization:
        from figma_auth.usecases.agents import AgentAuthorization

        return AgentAuthorization(
            store=self.store,
            documents=self.client_documents,
            scopes=self.start_sign_in.requested_scopes,
            resources=self.settings.oauth_resources,
            clock=self.clock,
        )

    @cached_property
    def agent_tokens(self) -> AgentTokens:
        from figma_auth.usecases.agent_tokens import AgentTokens

        return AgentTokens(
            store=self.store,
            signer=self.signer,
            clock=self.clock,
            ttl_seconds=self.settings.jwt_ttl_seconds,
            session_ttl_days=self.settings.session_ttl_days,
            ended=self.end_user.session_ended,
        )
