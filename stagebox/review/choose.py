"""Which take of a cue to review: the last, the circled one, a number, or the next/previous.

Pure choice over the take log's records: only takes whose file holds audio can be reviewed
(complete, interrupted or repaired ones; not one still recording, failed or missing).
"""

from __future__ import annotations

from collections.abc import Iterable

LAST = "last"
CIRCLED = "circled"
NEXT = "next"
PREVIOUS = "previous"
POLICIES = (LAST, CIRCLED)  # how a cue's take is chosen when none was picked by number
STEPS = (NEXT, PREVIOUS)


class ReviewChoiceError(ValueError):
    """No take to review: the message says which cue and why (one line for the crew)."""


def reviewable(records: Iterable) -> list:
    """The takes with audio on disk, by take number (records: stagebox.takes.log.TakeRecord)."""
    from stagebox.takes.log import COMPLETE, INTERRUPTED, REPAIRED

    keep = [r for r in records if r.state in (COMPLETE, INTERRUPTED, REPAIRED) and r.frames > 0]
    return sorted(keep, key=lambda r: r.take)


def choose(cue: str, records: Iterable, how: str | int, current: int | None = None):
    """The record to review of `cue`: `how` is a take number, "last", "circled", or "next" /
    "previous" from take `current` (stopping at the first and the last take)."""
    takes = reviewable(records)
    if not takes:
        raise ReviewChoiceError(f"cue {cue} has no take to review")
    if isinstance(how, int):
        for r in takes:
            if r.take == how:
                return r
        have = ", ".join(str(r.take) for r in takes)
        raise ReviewChoiceError(f"cue {cue} has no take {how} to review (takes: {have})")
    if how == LAST:
        return takes[-1]
    if how == CIRCLED:
        circled = [r for r in takes if r.circled]
        if not circled:
            raise ReviewChoiceError(f"cue {cue} has no circled take")
        return circled[-1]
    if how in STEPS:
        if current is None:
            return takes[-1] if how == PREVIOUS else takes[0]
        if how == NEXT:
            later = [r for r in takes if r.take > current]
            return later[0] if later else takes[-1]
        earlier = [r for r in takes if r.take < current]
        return earlier[-1] if earlier else takes[0]
    raise ValueError(f"unknown review choice {how!r}")
