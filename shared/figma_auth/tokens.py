"""The secrets we mint and how we recognise them later: random tokens, their stored hashes,
values derived for one purpose, RFC 8628 user codes and the session token's shape. No I/O;
the only randomness is ``secrets``'.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

_URL_SAFE_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random secret (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(value: str) -> str:
    """The only form in which we store a secret we must recognise later (SHA-256, base64url)."""
    return b64url(hashlib.sha256(value.encode("utf-8")).digest())


def derive(secret: str, purpose: str) -> str:
    """A value bound to ``secret`` for one purpose (HMAC-SHA256), 43 URL-safe chars."""
    return b64url(hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest())


# RFC 8628 §6.1: no vowels (no words), no look-alikes (no 0/O, 1/I/L confusion: letters only,
# and only consonants): 20 letters, 8 of them ≈ 2^34.6 codes, shown XXXX-XXXX.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))


def show_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def parse_user_code(text: str) -> str | None:
    """What a person typed (any case, with or without the dash or spaces) as the 8 letters, or None."""
    letters = "".join(ch for ch in text.upper() if ch not in "- ")
    return letters if len(letters) == 8 and all(ch in USER_CODE_ALPHABET for ch in letters) else None


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def is_url_safe_token(value: str, *, min_len: int, max_len: int) -> bool:
    return min_len <= len(value) <= max_len and bool(_URL_SAFE_RE.fullmatch(value))


SECRET_LENGTH = 43  # random_token(32)
MAX_USER_ID = 128  # Figma's user ids are far shorter


def new_session_token(user_id: str) -> str:
    """``<user id, base64url>.<43 random characters>``: the user id lets one read fetch the
    session and its connection together; the session is found by the hash of the whole token,
    so a token with another user's id in it finds nothing."""
    return f"{b64url(user_id.encode())}.{random_token(32)}"


def user_of_token(token: str) -> str | None:
    """The user a session token names, or None for anything not of that shape."""
    prefix, dot, secret = token.partition(".")
    if not dot or not is_url_safe_token(secret, min_len=SECRET_LENGTH, max_len=SECRET_LENGTH):
        return None
    if not is_url_safe_token(prefix, min_len=1, max_len=4 * MAX_USER_ID // 3 + 3):
        return None
    try:
        user_id = base64.urlsafe_b64decode(prefix + "=" * (-len(prefix) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user_id if 0 < len(user_id) <= MAX_USER_ID and user_id.isprintable() else None
