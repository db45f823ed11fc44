"""Why a cue sheet cannot be loaded: every problem of the file, each with its line number.

An ADR editor fixing a sheet wants the whole list at once, not one error per reload, so the
importers collect `Problem`s and raise a single `CueSheetError` carrying all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stagebox.safefile import show_path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a sheet; `line` is the 1-based line in the file (None: whole file)."""

    line: int | None
    message: str
    other_line: int | None = None  # a second line involved (the first of two duplicate cues)

    def text(self, name: str) -> str:
        if self.line is None:
            return f"{name}: {self.message}"
        if self.other_line is not None:
            first, second = sorted((self.other_line, self.line))
            return f"{name} lines {first} and {second}: {self.message}"
        return f"{name} line {self.line}: {self.message}"


class CueSheetError(ValueError):
    """A cue sheet that cannot be loaded. The cue list already loaded stays in use.

    `.path` is the file, `.line` the line of the first problem (None when the problem is the
    whole file), `.problems` every problem found, in line order.
    """

    def __init__(self, path: str | Path, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("CueSheetError needs at least one problem")
        self.path = Path(path)
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.message))
        self.line = self.problems[0].line
        name = show_path(self.path.name or str(self.path))  # escaped, shortened
        lines = [p.text(name) for p in self.problems]
        if len(lines) > 1:
            lines.insert(0, f"{name}: {len(lines)} problems")
        super().__init__("\n".join(lines))

    @property
    def messages(self) -> list[str]:
        """Each problem as one line of text, `cues.csv line 7: ...`."""
        name = show_path(self.path.name or str(self.path))  # escaped, shortened
        return [p.text(name) for p in self.problems]
