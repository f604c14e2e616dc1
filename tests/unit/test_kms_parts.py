"""The vault and the JWT signer over KMS as moto implements it (the session's moto server, real
HTTP: real envelope encryption and ECDSA signatures, encryption contexts enforced): what they
write, that only the right context opens it, what they cache, and what a verifier that is not
ours accepts; and what the app's JWT carries whatever signs it. Never moto's in-process
``mock_aws``: its exit resets the one moto world per process, the session server's too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest

from devstack import aws
from figma_auth.errors import FigmaAuthError, GrantUnreadable, NotFound
from figma_auth.records import Connection
from figma_auth.signing import MAX_SIGNED_BYTES, JwtSigner
from figma_auth.vault import DataKeyCache, Vault, grant_context
from tests.support.counting import CountingClient

GRANT = {"access_token": "a" * 20, "refresh_token": "r" * 20}


@pytest.fixture
def kms(moto_endpoint: str) -> Iterator[Any]:
    yield aws.client("kms", moto_endpoint)


def test_a_sealed_grant_opens_only_with_its_users_context(kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    vault = Vault(kms=lambda: kms, key_id=key, cache=DataKeyCache(max_entries=0))
    box = vault.seal(GRANT, grant_context("u1"))

    assert grant_context("u1") == {"purpose": "figma-grant", "user_id": "u1"}
    assert vault.open(box, grant_context("u1")) == GRANT
    assert b"a" * 20 not in box.ciphertext and len(box.nonce) == 12 and box.encrypted_key
    with pytest.raises(GrantUnreadable):
        vault.open(box, grant_context("u2"))  # KMS refuses the data key under another context
    flipped = type(box)(box.encrypted_key, box.nonce, box.ciphertext[:-1] + bytes([box.ciphertext[-1] ^ 1]))
    with pytest.raises(GrantUnreadable):
        vault.open(flipped, grant_context("u1"))


def test_a_reseal_keeps_the_data_key_and_a_fresh_nonce(kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    counting = CountingClient(kms)
    vault = Vault(kms=lambda: counting, key_id=key)  # type: ignore[arg-type,return-value]
    box = vault.seal(GRANT, grant_context("u1"))
    again = vault.reseal(box, {**GRANT, "access_token": "b" * 20}, grant_context("u1"))

    assert again.encrypted_key == box.encrypted_key and again.nonce != box.nonce
    assert vault.open(again, grant_context("u1"))["access_token"] == "b" * 20
    assert counting.calls == ["generate_data_key"]  # the seal's data key is cached: no Decrypt
    assert Vault(kms=lambda: kms, key_id=key).open(again, grant_context("u1"))["access_token"] == "b" * 20


def test_the_data_key_cache_forgets_by_age_and_by_count() -> None:
    cache = DataKeyCache(max_entries=2, max_age_seconds=60)
    cache.put((b"1", "c"), b"k1")
    cache.put((b"2", "c"), b"k2")
    cache.put((b"3", "c"), b"k3")
    assert cache.get((b"1", "c")) is None and cache.get((b"3", "c")) == b"k3"
    assert cache.get((b"3", "other")) is None
    old = DataKeyCache(max_age_seconds=0)
    old.put((b"1", "c"), b"k1")
    assert old.get((b"1", "c")) is None


def test_an_opened_grants_data_key_is_cached_for_the_next_open(kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    box = Vault(kms=lambda: kms, key_id=key, cache=DataKeyCache(max_entries=0)).seal({"a": "b"}, grant_context("u1"))
    decrypts: list[int] = []

    class Counting:
        exceptions = kms.exceptions

        def decrypt(self, **kwargs: Any) -> Any:
            decrypts.append(1)
            return kms.decrypt(**kwargs)

    vault = Vault(kms=lambda: Counting(), key_id=key)  # type: ignore[arg-type,return-value]
    assert vault.open(box, grant_context("u1")) == {"a": "b"} == vault.open(box, grant_context("u1"))
    assert decrypts == [1]  # the second open used the cached data key


def test_the_data_key_cache_keeps_1024_keys_for_5_minutes_by_default() -> None:
    from figma_auth.vault import DataKeyCache

    cache = DataKeyCache()
    assert (cache.max_entries, cache.max_age) == (1024, 300.0)  # docs/ARCHITECTURE.md's numbers


def test_a_jwt_signed_in_kms_verifies_with_pyjwt_against_the_jwks(kms: Any) -> None:
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    other = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signer = JwtSigner(kms=lambda: kms, key_id=key, also_serve=(other, key))
    token = signer.sign({"sub": "u1", "aud": "my-api"})

    jwks = signer.jwks()["keys"]
    assert [k["kid"] for k in jwks] == [signer.public_jwk(key)["kid"], signer.public_jwk(other)["kid"]]
    header = pyjwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": jwks[0]["kid"]}
    assert pyjwt.decode(token, pyjwt.PyJWK(jwks[0]).key, algorithms=["ES256"], audience="my-api")["sub"] == "u1"
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, pyjwt.PyJWK(jwks[1]).key, algorithms=["ES256"], audience="my-api")


def test_the_signer_refuses_claims_too_long_for_kms(kms: Any) -> None:
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signer = JwtSigner(kms=lambda: kms, key_id=key)
    with pytest.raises(FigmaAuthError) as refused:
        signer.sign({"name": "x" * MAX_SIGNED_BYTES})
    assert refused.value.message == "The JWT's claims are too long to sign."
    assert signer.sign({"name": "x" * (MAX_SIGNED_BYTES // 2)})  # well within: signed


def test_the_apps_jwt_names_the_session_and_never_outlives_it(kms: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from figma_auth.credentials import Credentials
    from figma_auth.errors import NotFound
    from figma_auth.records import Connection, Current, Profile, Session
    from figma_auth.usecases.jwts import AppJwts

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signer = JwtSigner(kms=lambda: kms, key_id=key)
    conn = Connection("u1", Profile("Ada Lovelace", "", "https://img"), ("current_user:read",))
    seen: list[Credentials] = []

    def authenticate(creds: Credentials) -> Current:
        seen.append(creds)
        return Current(Session("sid-1", "u1", now, now + timedelta(minutes=5)), conn)

    jwts = AppJwts(signer=signer, authenticate=authenticate, audience="my-api", ttl_seconds=900, clock=lambda: now)
    made = jwts.create(Credentials("tok", "bearer"), issuer="https://auth.example.com")

    body = pyjwt.decode(made.jwt, pyjwt.PyJWK(signer.jwks()["keys"][0]).key, algorithms=["ES256"], audience="my-api",
                        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})  # fmt: skip
    assert seen == [Credentials("tok", "bearer")]
    assert (body["iss"], body["sub"], body["sid"], body["name"], body["picture"]) == (
        "https://auth.example.com", "u1", "sid-1", "Ada Lovelace", "https://img"
    )  # fmt: skip
    assert "email" not in body  # Figma gave none
    assert body["exp"] == int((now + timedelta(minutes=5)).timestamp()) and made.expires_at == "2026-12-01T12:05:00Z"
    assert jwts.jwks().keys[0].kid == signer.public_jwk(key)["kid"]
    off = AppJwts(signer=None, authenticate=authenticate, audience="a", ttl_seconds=60, clock=lambda: now)
    with pytest.raises(NotFound):
        off.jwks()
    with pytest.raises(NotFound):
        off.create(Credentials("tok", "bearer"), issuer="https://x")
    assert len(seen) == 1  # refused before anyone is authenticated


def test_a_jwt_carries_the_users_name_email_and_picture_and_none_without_a_key() -> None:
    from figma_auth.credentials import Credentials
    from figma_auth.records import Current, Profile, Session
    from figma_auth.usecases.discovery import NO_JWTS
    from figma_auth.usecases.jwts import AppJwts

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    signed: list[dict[str, Any]] = []

    class Signer:
        def sign(self, body: Any) -> str:
            signed.append(dict(body))
            return "a.b.c"

        def jwks(self) -> dict[str, Any]:
            return {"keys": []}

    conn = Connection("u1", Profile("Ada", "ada@example.com", "https://img/ada.png"), ("current_user:read",))
    current = Current(Session("sid", "u1", now, now + timedelta(days=1)), conn)
    jwts = AppJwts(signer=Signer(), authenticate=lambda c: current, audience="api", ttl_seconds=900, clock=lambda: now)
    assert jwts.create(Credentials("t", "cookie"), issuer="https://i").jwt == "a.b.c"
    ((body,),) = [signed]
    assert (body["name"], body["email"], body["picture"]) == ("Ada", "ada@example.com", "https://img/ada.png")
    off = AppJwts(signer=None, authenticate=lambda c: current, audience="api", ttl_seconds=900, clock=lambda: now)
    for call in (lambda: off.jwks(), lambda: off.create(Credentials("t", "cookie"), issuer="https://i")):
        with pytest.raises(NotFound) as refused:
            call()
        assert refused.value.message == NO_JWTS


def test_a_sealed_box_is_aes_gcm_over_compact_json_bound_to_the_sorted_context(kms: Any) -> None:
    """The stored format, opened without the vault: what this version writes, the next must read."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = kms.create_key()["KeyMetadata"]["KeyId"]
    context = {"user_id": "u1", "purpose": "figma-grant"}  # given unsorted
    box = Vault(kms=lambda: kms, key_id=key, cache=DataKeyCache(max_entries=0)).seal(GRANT, context)
    data_key = kms.decrypt(CiphertextBlob=box.encrypted_key, EncryptionContext=context)["Plaintext"]
    aad = b'{"purpose":"figma-grant","user_id":"u1"}'
    assert AESGCM(data_key).decrypt(box.nonce, box.ciphertext, aad) == (
        b'{"access_token":"' + b"a" * 20 + b'","refresh_token":"' + b"r" * 20 + b'"}'
    )


def test_a_ticket_is_sealed_under_hkdf_of_the_secret_and_its_purpose() -> None:
    """seal_with_secret's format, opened independently: AES-GCM under HKDF-SHA256 (no salt,
    info "figma-auth:" + purpose) of the secret, the nonce first, the purpose as associated data."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from figma_auth.vault import open_with_secret, seal_with_secret

    sealed = seal_with_secret("the-ticket", b"the-session-token", purpose=b"ticket")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"figma-auth:ticket").derive(b"the-ticket")
    assert AESGCM(derived).decrypt(sealed[:12], sealed[12:], b"ticket") == b"the-session-token"
    assert open_with_secret("the-ticket", sealed, purpose=b"ticket") == b"the-session-token"
    assert open_with_secret("another-ticket", sealed, purpose=b"ticket") is None
    assert open_with_secret("the-ticket", sealed, purpose=b"other") is None


def test_a_reseal_asks_kms_for_the_data_key_of_this_vaults_key(kms: Any) -> None:
    key = kms.create_key()["KeyMetadata"]["KeyId"]

    class Recording(CountingClient):
        def __init__(self, client: Any) -> None:
            super().__init__(client)
            self.decrypts: list[dict[str, Any]] = []

        def decrypt(self, **kwargs: Any) -> Any:
            self.decrypts.append(kwargs)
            return self.client.decrypt(**kwargs)

    recording = Recording(kms)
    vault = Vault(kms=lambda: recording, key_id=key, cache=DataKeyCache(max_entries=0))  # type: ignore[arg-type,return-value]
    box = vault.seal(GRANT, grant_context("u1"))
    vault.reseal(box, GRANT, grant_context("u1"))
    assert recording.decrypts and all(call["KeyId"] == key for call in recording.decrypts)


def test_the_figma_client_is_built_on_its_first_call_and_kept() -> None:
    from figma_auth.container import FigmaOnFirstUse

    built: list[int] = []

    class Client:
        def me(self, access_token: str) -> str:
            return f"me with {access_token}"

    def build() -> Client:
        built.append(1)
        return Client()

    lazy = FigmaOnFirstUse(build)  # type: ignore[arg-type]
    assert built == []  # nothing built until a call
    assert lazy.me("a") == "me with a" and lazy.me("b") == "me with b"  # type: ignore[comparison-overlap]
    assert built == [1]


def test_a_containers_kms_and_figma_clients_wait_for_their_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from figma_auth import runtime

    env = {"FIGMA_CLIENT_ID": "c", "FIGMA_CLIENT_SECRET": "s", "TABLE_NAME": "t", "KMS_KEY_ID": "k"}
    env.update(ALLOWED_ORIGINS="https://app.example.com", JWT_KEY_ID="j", AWS_DEFAULT_REGION="us-east-1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    try:
        parts = runtime.container()
        assert parts.vault is not None and parts.signer is not None
        assert "kms" not in vars(parts)  # the vault and the signer hold no client yet
        assert parts.figma._client is None  # nor a Figma client (its module unloaded)
        assert parts.vault.kms.meta.service_model.service_name == "kms"
        assert "kms" in vars(parts) and parts.signer.kms is parts.vault.kms  # one client for both
        assert parts.figma.client.api_url == "https://api.figma.com"
        assert type(parts.figma._client).__name__ == "FigmaClient"
    finally:
        runtime.reset()
