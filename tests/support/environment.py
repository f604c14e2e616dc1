"""A deployment's environment with every required variable set: ``Settings.from_env(GOOD)``
succeeds, and a test adds, changes or drops a variable from it."""

from __future__ import annotations

GOOD = {
    "FIGMA_CLIENT_ID": "cid",
    "FIGMA_CLIENT_SECRET": "secret",
    "TABLE_NAME": "t",
    "KMS_KEY_ID": "k",
    "CALLBACK_URL": "https://api.example.com/auth/figma/callback",
    "ALLOWED_ORIGINS": "https://app.example.com",
}
