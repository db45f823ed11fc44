"""Pro Tools "Export Session Info as Text": ADR cues from the session's markers.

The export starts with a header (`SESSION NAME:`, `SAMPLE RATE:`, `SESSION START TIMECODE:`,
`TIMECODE FORMAT:` ...) and lists the markers in a section titled `M A R K E R S  L I S T I N G`:

    #   \tLOCATION     \tTIME REFERENCE    \tUNITS    \tNAME      \tCOMMENTS
    1   \t01:00:10:00  \t960000            \tSamples  \t101 JOHN  \tOUT 01:00:13:12 Hello?

Pro Tools 2023 and later add TRACK NAME and TRACK TYPE (`Ruler` or `Track`) columns before the
comments. Names and comments may contain line breaks: the text continues on the following lines.

How a marker becomes a cue (docs/cue-sheets.md has the same with examples):
- Name `101 | JOHN | Where were you? | notes`: number, character, dialogue, notes.
- Name `101 JOHN: Where were you?`: the first word is the number, up to the colon the character,
  after it the dialogue. Name `101 JOHN`: number and character only.
- A marker whose name does not start with a word containing a digit (`Reel 2 start`, `LFOA`) is
  not a cue: it is skipped, with a warning.
- TC-in is the marker's location (sub-frames are dropped). TC-out is `OUT hh:mm:ss:ff` in the
  comment if there is one; otherwise the cue runs for the default length (4 s), cut short at the
  next marker cue. The rest of the comment is the dialogue when the name gave none, else a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stagebox.cues.errors import Problem
from stagebox.cues.rows import RawCue
from stagebox.cues.table import Table
from stagebox.timecode import Rate, Timecode, TimecodeError

MARKERS_TITLE = "M A R K E R S  L I S T I N G"

# Pro Tools' TIMECODE FORMAT values and stagebox's rate names.
PROTOOLS_RATES = {
    "23.976 frame": "23.976",
    "24 frame": "24",
    "25 frame": "25",
    "29.97 frame": "29.97",
    "29.97 drop frame": "29.97df",
    "30 frame": "30",
    "30 drop frame": "30df",
}

_ROW = re.compile(r"^\s*\d+\s*\t", re.ASCII)
_SECTION = re.compile(r"^[A-Z0-9\-&/]( {1,2}[A-Z0-9\-&/])+$")
_TC_TEXT = r"\d{1,2}[:.]\d{1,2}[:.]\d{1,2}[:;.,]\d{1,2}"
_SUBFRAMES = re.compile(rf"^\s*({_TC_TEXT})\.\d+\s*$", re.ASCII)
_OUT_TAG = re.compile(rf"\b(?:TC[ \-]?)?OUT\s*[:=]?\s*({_TC_TEXT})", re.IGNORECASE | re.ASCII)
_TRACK_TYPES = ("ruler", "track")


def looks_like_protools(text: str) -> bool:
    head = text.lstrip("\ufeff")[:4000]
    return head.startswith("SESSION NAME:") or MARKERS_TITLE in text


@dataclass
class _Marker:
    line: int
    fields: list[str]


def read_protools(text: str, rate: Rate | None) -> Table:
    """Markers of a session text export as raw cues (`rate` is needed only for sample
    locations, when the export's main counter was not timecode)."""
    table = Table()
    lines = text.splitlines()
    header = _session_header(lines)
    fmt = header.get("TIMECODE FORMAT", "")
    if fmt:
        table.declared_rate = PROTOOLS_RATES.get(" ".join(fmt.lower().split()), fmt)
        table.declared_rate_line = _header_line(lines, "TIMECODE FORMAT")

    start = next((i for i, ln in enumerate(lines) if ln.strip() == MARKERS_TITLE), None)
    if start is None:
        table.problems.append(
            Problem(
                None,
                "no M A R K E R S  L I S T I N G section: in Pro Tools tick 'Include Markers' "
                "in File > Export > Session Info as Text",
            )
        )
        return table
    columns = (
        [c.strip().upper() for c in lines[start + 1].split("\t")] if start + 1 < len(lines) else []
    )
    if "LOCATION" not in columns or "NAME" not in columns:
        table.problems.append(
            Problem(start + 2, "the markers listing has no '#  LOCATION ... NAME' header line")
        )
        return table
    has_track = "TRACK TYPE" in columns

    markers = _marker_rows(lines, start + 2, has_track)
    if not markers:
        table.problems.append(Problem(start + 1, "the markers listing is empty"))
        return table

    session_start = header.get("SESSION START TIMECODE", "")
    sample_rate = header.get("SAMPLE RATE", "")
    for marker in markers:
        raw, skip = _marker_cue(marker, has_track, rate, session_start, sample_rate, table)
        if raw is not None:
            table.raws.append(raw)
        elif skip:
            table.warnings.append(skip)
    if not table.raws and not table.problems:
        table.problems.append(
            Problem(
                None,
                f"none of the {len(markers)} markers is a cue (a cue marker's name starts "
                "with its number, e.g. '101 JOHN')",
            )
        )
    return table


def _session_header(lines: list[str]) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in lines[:40]:
        key, sep, value = line.lstrip("\ufeff").partition(":\t")
        if not sep:
            if header and not line.strip():
                break
            continue
        header[key.strip().upper()] = value.strip()
    return header


def _header_line(lines: list[str], key: str) -> int | None:
    for i, line in enumerate(lines[:40]):
        if line.lstrip("\ufeff").upper().startswith(key + ":"):
            return i + 1
    return None


def _complete(fields: list[str], has_track: bool) -> bool:
    if not has_track:
        return len(fields) >= 6
    return any(f.strip().lower() in _TRACK_TYPES for f in fields[6:])


def _marker_rows(lines: list[str], first: int, has_track: bool) -> list[_Marker]:
    """Logical marker rows, with names and comments that ran onto further lines joined back."""
    markers: list[_Marker] = []
    for i in range(first, len(lines)):
        line = lines[i]
        if _SECTION.match(line.strip()):
            break
        if _ROW.match(line):
            markers.append(_Marker(i + 1, line.split("\t")))
            continue
        if not line.strip() or not markers:
            continue
        current = markers[-1]
        parts = line.split("\t")
        if not _complete(current.fields, has_track):
            # The name (or comment) broke across lines: continue the last field.
            current.fields[-1] += "\n" + parts[0]
            current.fields.extend(parts[1:])
        elif all(not p.strip() for p in parts[:-1]) and len(parts) > 1:
            current.fields[-1] += "\n" + parts[-1]  # comment continued under its column
        else:
            current.fields[-1] += "\n" + line
    return markers


def _marker_cue(
    marker: _Marker,
    has_track: bool,
    rate: Rate | None,
    session_start: str,
    sample_rate: str,
    table: Table,
) -> tuple[RawCue | None, str]:
    f = marker.fields
    index = f[0].strip()
    location, time_ref, units = (f[i].strip() if i < len(f) else "" for i in (1, 2, 3))
    if has_track:
        k = next((j for j in range(6, len(f)) if f[j].strip().lower() in _TRACK_TYPES), len(f))
        name = "\t".join(f[4 : k - 1])
        comment = "\t".join(f[k + 1 :])
    else:
        name = f[4] if len(f) > 4 else ""
        comment = "\t".join(f[5:])
    name = name.strip()
    comment = comment.strip()

    number, character, dialogue, notes = _split_name(name)
    if not any(ch.isdigit() for ch in number):
        return None, f"marker {index} {name!r} (line {marker.line}) skipped: not a cue number"

    tc_in = _location_label(location, time_ref, units, rate, session_start, sample_rate)
    if tc_in is None:
        table.problems.append(
            Problem(
                marker.line,
                f"marker {index} location {location!r} is not timecode: export with the main "
                "counter set to Timecode (or with TIME REFERENCE in Samples)",
            )
        )
        return None, ""
    tc_out = ""
    out = _OUT_TAG.search(comment)
    if out:
        tc_out = out.group(1)
        comment = (comment[: out.start()] + comment[out.end() :]).strip(" \t-,;|")
    if comment:
        if dialogue:
            notes = f"{notes} {comment}".strip()
        else:
            dialogue = comment
    raw = RawCue(
        line=marker.line,
        number=number,
        tc_in=tc_in,
        tc_out=tc_out,
        character=character,
        dialogue=dialogue,
        notes=notes,
    )
    return raw, ""


def _split_name(name: str) -> tuple[str, str, str, str]:
    """(number, character, dialogue, notes) from a marker name."""
    if "|" in name:
        parts = [p.strip() for p in name.split("|")]
        parts += [""] * (3 - len(parts))
        return parts[0], parts[1], parts[2], " | ".join(p for p in parts[3:] if p)
    head, sep, dialogue = name.partition(":")
    words = head.split()
    if not words:
        return "", "", "", ""
    if sep and len(words) == 1:
        # `101: line` - a number and a line, no character
        return words[0], "", dialogue.strip(), ""
    return words[0], " ".join(words[1:]), dialogue.strip(), ""


def _location_label(
    location: str,
    time_ref: str,
    units: str,
    rate: Rate | None,
    session_start: str,
    sample_rate: str,
) -> str | None:
    """The marker's timecode label as text, or None if it cannot be had."""
    sub = _SUBFRAMES.match(location)
    if sub:
        return sub.group(1)
    if re.fullmatch(_TC_TEXT, location, re.ASCII):
        return location
    # The main counter was not timecode: place the marker from its sample position, counted
    # from the session start.
    if units.lower() != "samples" or rate is None or not time_ref.isdigit():
        return None
    try:
        start_text = _SUBFRAMES.sub(r"\1", session_start) if session_start else ""
        start = Timecode.parse(start_text, rate)
        sr = float(sample_rate)
    except (TimecodeError, ValueError):
        return None
    if sr <= 0:
        return None
    frames = int(int(time_ref) * rate.fps / round(sr))  # floor: the frame containing the marker
    return str(start + frames)
