"""The people the Figma emulator knows: three named users, and a made-up one for any other key.

Apart from devstack/figma_emulator.py so that the modules it dispatches into (figma_files) can
name users without importing the emulator."""

from __future__ import annotations

import hashlib

USERS = {
    "ada": {"id": "1143925780461227139", "handle": "Ada Lovelace", "email": "ada@example.com"},
    "grace": {"id": "1143925780461227140", "handle": "Grace Hopper", "email": "grace@example.com"},
    "alan": {"id": "1143925780461227141", "handle": "Alan Turing", "email": "alan@example.com"},
}


def user_profile(key: str) -> dict[str, str]:
    """A listed user, or a made-up one for any other key (load tests sign in many people)."""
    if key in USERS:
        return USERS[key]
    digits = str(int.from_bytes(hashlib.sha256(key.encode()).digest()[:7], "big")).zfill(17)
    return {"id": "9" + digits[:18], "handle": f"User {key}", "email": f"{key}@example.com"}


def figma_user(key: str, host: str) -> dict[str, str]:
    """The user as Figma's REST answers show one (``User``: id, handle, img_url)."""
    profile = user_profile(key)
    return {"id": profile["id"], "handle": profile["handle"], "img_url": f"http://{host}/_emulator/avatar/{key}.svg"}
