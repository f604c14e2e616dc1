"""Who may open which file at the emulated Figma: a role per user and file (``owner`` unless
set). ``none``: the file's ``/meta`` answers 404 (Figma hides a file one cannot open);
``viewer``: it opens, but a webhook on it is refused 403 (creating one needs edit access, as
Figma documents). Set with ``POST /_emulator/files/access {file_key, user, role}`` (a user by
key, ``ada``, or Figma id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("owner", "editor", "viewer", "none")


@dataclass
class FileAccess:
    roles: dict[tuple[str, str], str] = field(default_factory=dict)  # (file key, user key) → role

    def role(self, file_key: str, user: str) -> str:
        return self.roles.get((file_key, user), "owner")

    def may_edit(self, file_key: str, user: str) -> bool:
        return self.role(file_key, user) in ("owner", "editor")

    def set(self, body: dict[str, Any], ids: dict[str, str]) -> None:
        """``ids``: Figma user id → user key (the emulator's users)."""
        role = str(body["role"])
        if role not in ROLES:
            raise ValueError(f"role {role!r}: one of {ROLES}")
        user = str(body["user"])
        self.roles[(str(body["file_key"]), ids.get(user, user))] = role

    def reset(self) -> None:
        self.roles.clear()
