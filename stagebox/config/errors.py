"""Configuration problems: every one names the key, the file and line, and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One bad value (or unknown key, or unreadable file) found while loading a config."""

    key: str  # dotted key path, e.g. "audio.sample_rate"; "" for the file as a whole
    reason: str  # what is wrong, e.g. "48001 is not one of 44100, 48000, 96000"
    file: Path | None = None  # the config file, None for built-in defaults or overrides
    line: int | None = None  # 1-based line of the key in `file`, when it could be found

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        what = f"{self.key}: " if self.key else ""
        return f"{where}{what}{self.reason}"


class ConfigError(ValueError):
    """The configuration cannot be used; `problems` lists every bad value at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(f"bad configuration ({head}):\n" + "\n".join(f"  {p}" for p in problems))
