"""The event publisher a use case takes, recording what it publishes (detail type, detail) in order."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Published:
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def __call__(self, detail_type: str, detail: dict[str, object]) -> None:
        self.events.append((detail_type, detail))
