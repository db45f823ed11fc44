"""Cues spotted by the picture editor as locators: Avid Media Composer's locator text export and
CMX3600 EDLs with `* LOC:` comments.

Avid Media Composer (Tools > Markers, "Export Markers" as text) writes one locator a line,
tab-separated: the user who placed it, the timecode, the track, the colour, the comment, and
(Media Composer 8 and later) the duration in frames:

    Ana Editor\t01:00:10:00\tV1\tred\t101 JOHN: Mary? Are you in there?\t1

An EDL carries locators as comments under the events, at record (sequence) timecode:

    004  ZZ100_50 V     C        01:00:10:01 01:00:14:20 00:59:58:00 01:00:02:19
    * LOC: 01:00:01:14 RED     ANIM FIX NEEDED

A locator is a cue when its comment reads as one (`stagebox.cues.spotname`: `101 JOHN: line`,
`line $QN=101`, ...); the rest (`ANIM FIX NEEDED`) are notes for other departments, skipped.
TC-in is the locator. TC-out, in order: an `OUT hh:mm:ss:ff` in the comment; the Avid duration
field when it spans more than one frame; else the next cue locator's TC-in, at most the default
marker length (4 s), as for Pro Tools markers.
"""

from __future__ import annotations

import re

from stagebox.cues.errors import Problem
from stagebox.cues.rows import RawCue
from stagebox.cues.spotname import read_spot
from stagebox.cues.table import Table

_TC = r"\d{1,2}[:;.]\d{2}[:;.]\d{2}[:;.,]\d{2}"
_TC_FIELD = re.compile(rf"^\s*({_TC})\s*$")
AVID_COLOURS = ("red", "green", "blue", "cyan", "magenta", "yellow", "black", "white")
_EDL_EVENT = re.compile(rf"^\s*\d{{1,6}}\s+\S+\s+\S+\s+\S+.*?({_TC})\s+({_TC})\s+({_TC})\s+({_TC})")
_EDL_LOC = re.compile(rf"^\s*\*\s*LOC:\s*({_TC})\s*(\S*)\s*(.*?)\s*$", re.IGNORECASE)
_FCM = re.compile(r"^\s*FCM:\s*(.*?)\s*$", re.IGNORECASE)


def looks_like_avid_locators(text: str) -> bool:
    """The first line: five or more tab-separated fields, a timecode second, a colour fourth."""
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.lstrip("\ufeff").split("\t")
        return (
            len(fields) >= 5
            and bool(_TC_FIELD.match(fields[1]))
            and fields[3].strip().lower() in AVID_COLOURS
        )
    return False


def looks_like_edl(text: str) -> bool:
    """A `TITLE:` first line, or CMX3600 event lines (four timecodes)."""
    lines = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()]
    if not lines:
        return False
    if lines[0].upper().startswith("TITLE:"):
        return True
    return any(_EDL_EVENT.match(ln) for ln in lines[:50])


def read_avid_locators(text: str) -> Table:
    table = Table()
    found = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.lstrip("\ufeff").split("\t")
        tc = _TC_FIELD.match(fields[1]) if len(fields) >= 5 else None
        if tc is None:
            table.problems.append(
                Problem(
                    number,
                    "not an Avid locator line (expected: name, timecode, track, colour, "
                    "comment, separated by tabs)",
                )
            )
            continue
        found += 1
        comment = fields[4].strip()
        duration = fields[5].strip() if len(fields) > 5 else ""
        length = int(duration) if duration.isdigit() and int(duration) > 1 else 0
        _add(table, number, tc.group(1), comment, length, f"locator {comment!r}")
    _nothing(table, found, "locator")
    return table


def read_edl(text: str) -> Table:
    table = Table()
    found = 0
    for number, line in enumerate(text.splitlines(), start=1):
        fcm = _FCM.match(line)
        if fcm and not table.declared_rate:
            if fcm.group(1).upper().replace("-", " ").startswith("DROP FRAME"):
                table.declared_rate, table.declared_rate_line = "29.97df", number
            continue
        loc = _EDL_LOC.match(line)
        if loc is None:
            continue
        found += 1
        tc, _colour, comment = loc.groups()
        _add(table, number, tc, comment, 0, f"* LOC: {comment!r}")
    _nothing(table, found, "* LOC: locator")
    return table


def _add(table: Table, line: int, tc: str, comment: str, length: int, what: str) -> None:
    spot = read_spot(comment)
    if spot is None:
        if comment:
            table.warnings.append(f"line {line}: {what} skipped: not a cue")
        return
    tags = {k: v for k, v in spot.tags.items() if k != "QN"}
    table.raws.append(
        RawCue(
            line=line,
            number=spot.number,
            tc_in=tc,
            tc_out=spot.tc_out,
            character=tags.pop("Char", spot.character),
            actor=tags.pop("Actor", ""),
            dialogue=tags.pop("Line", spot.dialogue),
            notes=tags.pop("Note", spot.notes),
            reel=tags.pop("Reel", ""),
            scene=tags.pop("Sc", ""),
            tags=tags,
            length=length,
        )
    )


def _nothing(table: Table, found: int, kind: str) -> None:
    if table.raws or table.problems:
        return
    table.problems.append(
        Problem(
            None,
            f"no cue among the {found} {kind}s of this file: a {kind} is a cue when its "
            "comment starts with the cue number, e.g. '101 JOHN: Where were you?', or "
            "carries '$QN=101'",
        )
    )
