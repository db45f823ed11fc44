"""The structure of a Pro Tools "Export Session Info as Text" file, with no ADR meaning yet.

The export is a header of `KEY:<tab>value` lines, then sections titled in spaced capitals,
each with its own column header line:

    SESSION NAME:\tCharade
    SAMPLE RATE:\t48000.000000
    SESSION START TIMECODE:\t00:59:00:00
    TIMECODE FORMAT:\t25 Frame
    ...
    T R A C K  L I S T I N G
    TRACK NAME:\tPETER
    COMMENTS:\t$CN=1 {Actor=Cary Grant}
    USER DELAY:\t0 Samples
    STATE: \n
    CHANNEL \tEVENT   \tCLIP NAME   \tSTART TIME    \tEND TIME      \tDURATION      \tSTATE
    1       \t1       \t"Here you are." $QN=P104\t   01:33:08:00\t   01:33:09:01\t...\tUnmuted

    M A R K E R S  L I S T I N G
    #   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME      \tCOMMENTS
    1   \t01:00:00:00  \t2880000           \tSamples  \t{Title=Charade}\t...

Clip rows may carry a TIMESTAMP column before STATE; Pro Tools 2023 and later add TRACK NAME
and TRACK TYPE columns to the markers. A name or comment typed with a line break runs onto the
next lines of the file, and one with a tab spills into the next column: a clip row is read
from both ends (CHANNEL and EVENT on the left, the times and STATE on the right), so whatever
lies between is the name, tabs and line breaks included. A stereo track lists each clip once
per channel; the clips of channel 1 stand for the track.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARKERS_TITLE = "M A R K E R S  L I S T I N G"
TRACKS_TITLE = "T R A C K  L I S T I N G"

_SECTION = re.compile(r"^[A-Z0-9\-&/]( {1,2}[A-Z0-9\-&/])+$")
_MARKER_ROW = re.compile(r"^\s*\d+\s*\t")
_CLIP_ROW = re.compile(r"^\s*\d+\s*\t\s*\d+\s*\t")
_CLIP_STATES = ("muted", "unmuted")
_TRACK_TYPES = ("ruler", "track")


@dataclass
class Clip:
    line: int  # 1-based line of the clip's row
    channel: int
    event: int
    name: str
    start: str  # the counter's text: timecode, samples, min:secs ...
    end: str
    muted: bool = False


@dataclass
class Track:
    line: int  # 1-based line of TRACK NAME
    name: str
    comments: str = ""
    clips: list[Clip] = field(default_factory=list)


@dataclass
class Marker:
    line: int
    number: str
    location: str
    time_reference: str
    units: str
    name: str
    comments: str
    track_type: str = ""  # "Ruler", "Track" (Pro Tools 2023+) or "" (older exports)


@dataclass
class Session:
    header: dict[str, str]
    header_lines: dict[str, int]
    tracks: list[Track]
    markers: list[Marker]
    has_tracks: bool  # a T R A C K  L I S T I N G section was there
    has_markers: bool  # an M A R K E R S  L I S T I N G section was there
    marker_header_ok: bool = True
    marker_header_line: int | None = None


def looks_like_protools(text: str) -> bool:
    head = text.lstrip("\ufeff")[:4000]
    return head.startswith("SESSION NAME:") or MARKERS_TITLE in text or TRACKS_TITLE in text


def read_session(text: str) -> Session:
    lines = text.splitlines()
    header, header_lines = _header(lines)
    tracks_at = _title_line(lines, TRACKS_TITLE)
    markers_at = _title_line(lines, MARKERS_TITLE)
    tracks = _tracks(lines, tracks_at + 1) if tracks_at is not None else []
    session = Session(
        header, header_lines, tracks, [], tracks_at is not None, markers_at is not None
    )
    if markers_at is not None:
        columns = (
            [c.strip().upper() for c in lines[markers_at + 1].split("\t")]
            if markers_at + 1 < len(lines)
            else []
        )
        session.marker_header_line = markers_at + 2
        if "LOCATION" not in columns or "NAME" not in columns:
            session.marker_header_ok = False
        else:
            session.markers = _markers(lines, markers_at + 2, "TRACK TYPE" in columns)
    return session


def _title_line(lines: list[str], title: str) -> int | None:
    return next((i for i, ln in enumerate(lines) if ln.strip() == title), None)


def _header(lines: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    header: dict[str, str] = {}
    where: dict[str, int] = {}
    for i, line in enumerate(lines[:40]):
        key, sep, value = line.lstrip("\ufeff").partition(":\t")
        if not sep:
            if header and not line.strip():
                break
            continue
        key = key.strip().upper()
        header[key] = value.strip()
        where[key] = i + 1
    return header, where


# -- tracks and clips ---------------------------------------------------------------------------


def _tracks(lines: list[str], first: int) -> list[Track]:
    tracks: list[Track] = []
    i = first
    n = len(lines)
    while i < n:
        line = lines[i]
        if _SECTION.match(line.strip()):
            break
        if line.startswith("TRACK NAME:"):
            track = Track(i + 1, line.partition(":")[2].strip())
            tracks.append(track)
            i = _track_block(lines, i + 1, track)
            continue
        i += 1
    return tracks


def _track_block(lines: list[str], i: int, track: Track) -> int:
    """Read one track's comments and clips from line index `i`; return the next index."""
    n = len(lines)
    columns: list[str] = []
    comment_lines: list[str] | None = None
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if line.startswith("TRACK NAME:") or _SECTION.match(stripped):
            break
        if line.startswith("COMMENTS:"):
            comment_lines = [line.partition(":")[2].lstrip("\t").strip()]
        elif line.startswith(("USER DELAY:", "STATE:", "PLUG-INS:")):
            comment_lines = None if comment_lines is None else _close(track, comment_lines)
        elif line.startswith("CHANNEL") and "\t" in line:
            comment_lines = None if comment_lines is None else _close(track, comment_lines)
            columns = [c.strip().upper() for c in line.split("\t")]
            if columns[-1:] != ["STATE"] or not {"START TIME", "END TIME"} <= set(columns[3:]):
                columns = []  # not a clip header stagebox knows: the track's clips are not read
        elif comment_lines is not None:
            comment_lines.append(stripped)  # a comment typed with line breaks
        elif columns and _CLIP_ROW.match(line):
            i = _clip_row(lines, i, columns, track)
            continue
        i += 1
    if comment_lines is not None:
        _close(track, comment_lines)
    return i


def _close(track: Track, comment_lines: list[str]) -> None:
    track.comments = "\n".join(c for c in comment_lines if c)
    return None


def _clip_row(lines: list[str], i: int, columns: list[str], track: Track) -> int:
    """One clip row from line index `i` (joining lines a name broke onto); the next index."""
    # Fields right of the name: START, END, DURATION, [TIMESTAMP,] STATE.
    right = len(columns) - columns.index("START TIME", 3)
    text = lines[i]
    j = i + 1
    # A name with a line break: the row ends on the first line whose last field is a state.
    while not _ends_row(text, right) and j < len(lines) and j < i + 20:
        nxt = lines[j]
        if _CLIP_ROW.match(nxt) or nxt.startswith("TRACK NAME:") or _SECTION.match(nxt.strip()):
            break
        text += "\n" + nxt
        j += 1
    if not _ends_row(text, right):
        return i + 1  # not a clip row after all
    fields = text.split("\t")
    name = "\t".join(fields[2 : len(fields) - right]).strip()
    tail = [f.strip() for f in fields[len(fields) - right :]]
    end_at = columns.index("END TIME") - (len(columns) - right)
    try:
        channel, event = int(fields[0]), int(fields[1])
    except ValueError:
        return j
    track.clips.append(
        Clip(i + 1, channel, event, name, tail[0], tail[end_at], tail[-1].lower() == "muted")
    )
    return j


def _ends_row(text: str, right: int) -> bool:
    fields = text.split("\t")
    return len(fields) >= 2 + right and fields[-1].strip().lower() in _CLIP_STATES


# -- markers --------------------------------------------------------------------------------------


def _markers(lines: list[str], first: int, has_track: bool) -> list[Marker]:
    rows = _marker_rows(lines, first, has_track)
    markers = []
    for line, f in rows:
        number = f[0].strip()
        location, time_ref, units = (f[k].strip() if k < len(f) else "" for k in (1, 2, 3))
        track_type = ""
        if has_track:
            k = next((j for j in range(6, len(f)) if f[j].strip().lower() in _TRACK_TYPES), len(f))
            name = "\t".join(f[4 : k - 1])
            track_type = f[k].strip() if k < len(f) else ""
            comment = "\t".join(f[k + 1 :])
        else:
            name = f[4] if len(f) > 4 else ""
            comment = "\t".join(f[5:])
        markers.append(
            Marker(
                line, number, location, time_ref, units, name.strip(), comment.strip(), track_type
            )
        )
    return markers


def _complete(fields: list[str], has_track: bool) -> bool:
    if not has_track:
        return len(fields) >= 6
    return any(f.strip().lower() in _TRACK_TYPES for f in fields[6:])


def _marker_rows(lines: list[str], first: int, has_track: bool) -> list[tuple[int, list[str]]]:
    """Logical marker rows, with names and comments that ran onto further lines joined back."""
    rows: list[tuple[int, list[str]]] = []
    for i in range(first, len(lines)):
        line = lines[i]
        if _SECTION.match(line.strip()):
            break
        if _MARKER_ROW.match(line):
            rows.append((i + 1, line.split("\t")))
            continue
        if not line.strip() or not rows:
            continue
        fields = rows[-1][1]
        parts = line.split("\t")
        if not _complete(fields, has_track):
            # The name (or comment) broke across lines: continue the last field.
            fields[-1] += "\n" + parts[0]
            fields.extend(parts[1:])
        elif all(not p.strip() for p in parts[:-1]) and len(parts) > 1:
            fields[-1] += "\n" + parts[-1]  # comment continued under its column
        else:
            fields[-1] += "\n" + line
    return rows
