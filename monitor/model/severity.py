"""Alert severity, ordered so that max() gives the most severe, and its names."""

from __future__ import annotations

from enum import IntEnum


class Severity(IntEnum):
    """Alert severity; ordered so that max() gives the most severe."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: object) -> Severity:
        """A severity from its name, any case ("High"); ValueError naming the choices."""
        name = text.strip().upper() if isinstance(text, str) else ""
        if name not in cls.__members__:
            shown = f'"{text}"' if isinstance(text, str) else repr(text)
            raise ValueError(f"{shown} is not one of {', '.join(s.name.lower() for s in cls)}")
        return cls[name]

    @property
    def label(self) -> str:
        return self.name.lower()


SEVERITY_NAMES = tuple(s.label for s in Severity)
