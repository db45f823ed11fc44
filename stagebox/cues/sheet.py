"""The cue list of a session: cues in sheet order, found by number or by timecode.

A `CueSheet` is immutable. Loading a new sheet builds a new object, so a sheet that fails to
load can never replace (or half-replace) the one the stage is working from.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from pathlib import Path

from stagebox.cues.cue import Cue
from stagebox.timecode import Rate, Timecode, TimecodeError


def cue_key(number: str) -> str:
    """How cue numbers compare: outer blanks ignored, case-insensitive ("12a" is "12A")."""
    return " ".join(str(number).split()).casefold()


class CueSheet:
    """The cues of one sheet, in the order the sheet lists them.

    `next`/`previous` follow sheet order (the order the crew steps through with the buttons);
    `at(tc)` follows time (for a stage that follows the DAW's LTC).
    """

    def __init__(
        self,
        path: str | Path,
        rate: Rate,
        cues: list[Cue] | tuple[Cue, ...],
        *,
        source_format: str = "",
        warnings: list[str] | tuple[str, ...] = (),
        encoding: str = "",
    ) -> None:
        self.path = Path(path)
        self.encoding = encoding  # the text encoding the file was read in ("utf-8", "mac-roman")
        self.rate = rate
        self.cues: tuple[Cue, ...] = tuple(cues)
        self.source_format = source_format  # "csv", "vslink", "protools" or "" (from_dict)
        self.warnings: tuple[str, ...] = tuple(warnings)  # loaded anyway; worth telling the user
        self._index: dict[str, int] = {}
        for i, cue in enumerate(self.cues):
            if cue.tc_in.rate != rate or cue.tc_out.rate != rate:
                raise ValueError(f"cue {cue.number} is not at the sheet's rate {rate}")
            key = cue_key(cue.number)
            if key in self._index:
                raise ValueError(f"cue number {cue.number!r} appears twice")
            self._index[key] = i
        # For `at`: cues sorted by TC-in, and the latest TC-out among each prefix, so a lookup
        # is a bisection plus a short walk back over overlapping cues.
        self._by_time = sorted(range(len(self.cues)), key=lambda i: self.cues[i].tc_in.frame_count)
        self._starts = [self.cues[i].tc_in.frame_count for i in self._by_time]
        self._reach: list[int] = []
        reach = -1
        for i in self._by_time:
            reach = max(reach, self.cues[i].tc_out.frame_count)
            self._reach.append(reach)

    # -- the list ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.cues)

    def __iter__(self) -> Iterator[Cue]:
        return iter(self.cues)

    def __contains__(self, number: object) -> bool:
        return isinstance(number, str) and cue_key(number) in self._index

    def __repr__(self) -> str:
        return f"CueSheet({str(self.path)!r}, rate={self.rate}, {len(self.cues)} cues)"

    def index(self, number: str) -> int:
        """Position of cue `number` in sheet order (KeyError if the sheet has no such cue)."""
        try:
            return self._index[cue_key(number)]
        except KeyError:
            raise KeyError(self._missing(number)) from None

    def get(self, number: str) -> Cue:
        """Cue `number` (KeyError naming the sheet and a few of its cues if there is none)."""
        return self.cues[self.index(number)]

    def next(self, number: str) -> Cue | None:
        """The cue after `number` in sheet order; None after the last one (no wrap-around)."""
        i = self.index(number) + 1
        return self.cues[i] if i < len(self.cues) else None

    def previous(self, number: str) -> Cue | None:
        """The cue before `number` in sheet order; None before the first one."""
        i = self.index(number) - 1
        return self.cues[i] if i >= 0 else None

    def first(self) -> Cue | None:
        return self.cues[0] if self.cues else None

    def at(self, timecode: Timecode) -> Cue | None:
        """The cue whose window TC-in <= timecode < TC-out contains `timecode`, or None.

        Where windows overlap (two characters talking over each other), the cue that started
        last wins: it is the one the actor is about to speak. A timecode at another rate than
        the sheet's raises TimecodeError: the DAW and the sheet disagree about the rate.
        """
        if timecode.rate != self.rate:
            raise TimecodeError(
                f"timecode {timecode} is at {timecode.rate} but the cue sheet "
                f"{self.path.name} is at {self.rate}"
            )
        frame = timecode.frame_count
        k = bisect.bisect_right(self._starts, frame) - 1
        while k >= 0 and self._reach[k] > frame:
            cue = self.cues[self._by_time[k]]
            if cue.tc_out.frame_count > frame:
                return cue
            k -= 1
        return None

    def _missing(self, number: str) -> str:
        known = [c.number for c in self.cues[:8]]
        more = ", ..." if len(self.cues) > 8 else ""
        listed = ", ".join(known) + more if known else "none"
        return f"no cue {number!r} in {self.path.name} (cues: {listed})"

    # -- plain data -------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Plain data for JSON (control socket, display process, state file)."""
        return {
            "path": str(self.path),
            "rate": self.rate.name,
            "format": self.source_format,
            "warnings": list(self.warnings),
            "encoding": self.encoding,
            "cues": [cue.to_dict() for cue in self.cues],
        }

    @classmethod
    def from_dict(cls, data: dict) -> CueSheet:
        rate = Rate.parse(data["rate"])
        cues = [Cue.from_dict(c) for c in data.get("cues", [])]
        return cls(
            data.get("path", ""),
            rate,
            cues,
            source_format=data.get("format", ""),
            warnings=data.get("warnings", ()),
            encoding=data.get("encoding", ""),
        )
