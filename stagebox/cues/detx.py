"""DetX: the XML rythmo-band format French dubbing stages exchange (Cappella, Mosaic, Joker).

    <detx copyright="...">
      <header><cappella version="3.7.0"/><last_position timecode="..." track="0"/></header>
      <roles>
        <role color="#FF0000" description="" id="marie" name="MARIE"/>
      </roles>
      <body>
        <line role="marie" track="0">
          <lipsync timecode="01:00:10:00" type="in_open"/>
          <text>Tu étais où </text>
          <lipsync timecode="01:00:11:05" type="neutral"/>
          <text>toute la nuit ?</text>
          <lipsync timecode="01:00:12:20" type="out_open"/>
        </line>
      </body>
    </detx>

- Each role is a character (its `name`; a line naming a role that is not declared keeps the id).
- Each `<line>` with text is a cue. DetX lines carry no cue number: the cue number is the
  line's `id` attribute when it has one, else its position in the body (1, 2, 3 ...).
- TC-in is the line's first `<lipsync>`, TC-out its last; the text is the line to record.
- Every `<lipsync>` followed by `<text>` is a sync point: the text's first word is spoken
  there, and its words share the time to the next `<lipsync>` in proportion to their length.
  Each word gets its timecode (as a `{timecode}` word mark would in a CSV sheet): the rhythm
  band draws them there.
- `type="reac"` (a reaction: breaths, laughs) is kept as the tag `reac`; the track (the
  band's lane) as `track`.

The XML is parsed with expat directly, with no DTD: a document type declaration or an entity
declaration is refused (no entity expansion, no "billion laughs").
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from xml.parsers import expat

from stagebox.cues.errors import Problem
from stagebox.cues.rows import RawCue
from stagebox.cues.table import Table
from stagebox.timecode import Rate, Timecode, TimecodeError

_TC = re.compile(r"^\s*(\d{1,2}[:;.]\d{2}[:;.]\d{2}[:;.,]\d{2})(?:[.:]\d+)?\s*$")


LINE = " line"  # attribute holding an element's line in the file (no XML name has a space)


class _Refused(Exception):
    pass


def looks_like_detx(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n")[:2000]
    return head.startswith("<") and "<detx" in head


def parse_xml(text: str) -> ET.Element:
    """An element tree from `text`, refusing DTDs and entity declarations.

    Raises ValueError with the line of the problem."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args):
        raise _Refused("a DTD or entity declaration (not allowed in a cue sheet)")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse

    def start(tag, attrs):
        builder.start(tag, {**attrs, LINE: str(parser.CurrentLineNumber)})

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(tag)
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(text.lstrip("\ufeff"), True)
        return builder.close()
    except _Refused as exc:
        raise ValueError(f"line {parser.CurrentLineNumber}: {exc}") from None
    except expat.ExpatError as exc:
        reason = expat.errors.messages[exc.code]
        raise ValueError(f"line {exc.lineno}: not well-formed XML ({reason})") from None


def read_detx(text: str, rate: Rate | None) -> Table:
    """The cues of a DetX file. `rate` places each word between its sync points (None: only
    the first word of each chunk is placed, at its lipsync)."""
    table = Table()
    try:
        root = parse_xml(text)
    except ValueError as exc:
        line_text, _, message = str(exc).partition(": ")
        line = int(line_text.split()[-1]) if line_text.split()[-1].isdigit() else None
        table.problems.append(Problem(line, message))
        return table
    if root.tag != "detx":
        table.problems.append(Problem(None, f"the XML root is <{root.tag}>, not <detx>"))
        return table
    roles = {
        r.get("id", ""): (r.get("name") or r.get("id") or "").strip()
        for r in root.iter("role")
        if r.get("id")
    }
    body = root.find("body")
    lines = list(body.iter("line")) if body is not None else []
    for position, line in enumerate(lines, start=1):
        raw = _line_cue(line, position, roles, table, rate)
        if raw is not None:
            table.raws.append(raw)
    if not table.raws and not table.problems:
        table.problems.append(
            Problem(
                None,
                f"no cue in this DetX file ({len(lines)} <line> elements, none with text and "
                "<lipsync> timecodes)",
            )
        )
    return table


def _line_cue(
    line: ET.Element, position: int, roles: dict, table: Table, rate: Rate | None
) -> RawCue | None:
    """The cue of one `<line>`: its text with a `{timecode}` mark before each word."""
    number = (line.get("id") or str(position)).strip()
    where = int(line.get(LINE, "0")) or None
    times: list[str] = []
    chunks: list[tuple[int, str]] = []  # (index in `times` of the lipsync before it, text)
    for child in line:
        if child.tag == "lipsync":
            tc = _TC.match(child.get("timecode", ""))
            if tc is None:
                table.problems.append(
                    Problem(
                        int(child.get(LINE, "0")) or None,
                        f"DetX line {number}: <lipsync timecode={child.get('timecode', '')!r}> "
                        "is not a timecode",
                    )
                )
                return None
            times.append(tc.group(1))
        elif child.tag == "text":
            chunk = " ".join("".join(child.itertext()).split())
            if chunk:
                chunks.append((len(times) - 1, chunk))
    if not chunks or len(times) < 2:
        if chunks:
            table.warnings.append(
                f"DetX line {number} (line {where}) skipped: it needs a start and an end <lipsync>"
            )
        return None
    parts = [_timed_words(text, times, k, rate) for k, text in chunks]
    role = line.get("role", "")
    tags = {}
    if line.get("type"):
        tags[line.get("type")] = line.get("type")
    if line.get("track"):
        tags["track"] = line.get("track")
    return RawCue(
        line=where or 0,
        number=number,
        tc_in=times[0],
        tc_out=times[-1],
        character=roles.get(role, role),
        dialogue=" ".join(parts),
        tags=tags,
    )


def _timed_words(text: str, times: list[str], k: int, rate: Rate | None) -> str:
    """`text` with a word timing mark before each word: the chunk starts at its lipsync
    (`times[k]`) and its words share the time to the next lipsync in proportion to their
    length in characters, as the band stretches a chunk between its sync points."""
    if k < 0:
        return text  # text before any lipsync: shown, not placed
    words = text.split()
    start = _frame(times[k], rate)
    next_sync = _frame(times[k + 1], rate) if k + 1 < len(times) else None
    end = next_sync.frame_count if next_sync is not None else None
    if start is None or end is None or end <= start.frame_count or len(words) == 1:
        return "{" + times[k] + "}" + text
    total = sum(len(w) for w in words)
    out, before = [], 0
    for word in words:
        at = start + (end - start.frame_count) * before // total
        out.append("{" + str(at) + "}" + word)
        before += len(word)
    return " ".join(out)


def _frame(label: str, rate: Rate | None) -> Timecode | None:
    if rate is None:
        return None
    try:
        return Timecode.parse(label, rate)
    except TimecodeError:
        return None
