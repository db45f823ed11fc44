"""Cue sheets as tables: CSV, TSV or semicolon-separated, with a header row naming the columns.

This is what spreadsheet cue sheets (Excel, Numbers, Google Sheets, EdiCue exports) look like.
The delimiter is sniffed from the header row; columns are matched by name, case-insensitively,
with the aliases ADR editors actually use (`ALIASES`). CB Electronics' VSLink lists are the same
shape with their own column names (`stagebox.cues.vslink`).

Lines starting with `#` before the header (or as the first cell of a row) are comments; a
comment `# rate: 25` (or `# fps: 29.97df`) declares the sheet's timecode rate.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from stagebox.cues.errors import Problem
from stagebox.cues.rows import RawCue

# Cue fields and the column names that give them. Names are compared after `normalise_header`.
ALIASES: dict[str, tuple[str, ...]] = {
    "number": ("cue", "qn", "cue #", "cue#", "cue no", "cue number", "cue num", "number", "no"),
    "tc_in": (
        "in",
        "tc in",
        "tcin",
        "record in",
        "rec in",
        "start",
        "start tc",
        "timecode in",
        "time in",
        "in point",
    ),
    "tc_out": (
        "out",
        "tc out",
        "tcout",
        "record out",
        "rec out",
        "end",
        "end tc",
        "timecode out",
        "time out",
        "out point",
    ),
    "character": ("character", "char", "role", "character name"),
    "actor": ("actor", "talent", "cast"),
    "dialogue": ("dialogue", "dialog", "line", "text", "script"),
    "notes": ("comment", "comments", "notes", "note"),
    "reel": ("reel", "reel #", "reel no"),
    "scene": ("scene", "sc"),
    "rate": ("rate", "fps", "frame rate", "tc rate", "timecode rate"),
}

REQUIRED = ("number", "tc_in", "tc_out")

FIELD_NAMES = {
    "number": "cue number",
    "tc_in": "TC-in",
    "tc_out": "TC-out",
    "character": "character",
    "actor": "actor",
    "dialogue": "dialogue",
    "notes": "notes",
    "reel": "reel",
    "scene": "scene",
    "rate": "rate",
}

DELIMITERS = ("\t", ";", ",")

_RATE_COMMENT = re.compile(r"^#\s*(?:rate|fps|frame\s*rate)\s*[:=]\s*(.+?)\s*$", re.IGNORECASE)


def normalise_header(name: str) -> str:
    """`TC-In`, `tc_in`, ` Tc  In ` -> `tc in`; `Cue No.` -> `cue no`."""
    text = name.replace("\ufeff", "").strip().casefold()
    text = re.sub(r"[_\-]+", " ", text)
    text = text.replace(".", "").rstrip(":")
    return " ".join(text.split())


@dataclass
class Table:
    """What a table importer found: raw cues, the declared rate and its line, problems."""

    raws: list[RawCue] = field(default_factory=list)
    declared_rate: str = ""
    declared_rate_line: int | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def sniff_delimiter(header_line: str, aliases: dict[str, tuple[str, ...]]) -> str:
    """The delimiter that splits the header into the most known column names."""
    best, best_score = ",", (-1, -1)
    for delim in DELIMITERS:
        cells = _split_line(header_line, delim)
        known = sum(1 for c in cells if _field_for(c, aliases))
        score = (known, len(cells))
        if score > best_score:
            best, best_score = delim, score
    return best


def _split_line(line: str, delim: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delim), [])
    except csv.Error:
        return line.split(delim)


def _field_for(header: str, aliases: dict[str, tuple[str, ...]]) -> str:
    key = normalise_header(header)
    for name, names in aliases.items():
        if key in names:
            return name
    return ""


def known_columns(header_line: str, aliases: dict[str, tuple[str, ...]] = ALIASES) -> int:
    """How many cells of a header line name a cue field (0: not a cue sheet's header)."""
    delim = sniff_delimiter(header_line, aliases)
    cells = _split_line(header_line, delim)
    return sum(1 for c in cells if _field_for(c, aliases)) + len(_language_columns(cells, aliases))


def header_position(text: str) -> tuple[int, int, str, list[tuple[int, str]]]:
    """(offset of the header line, its 1-based line number, the line, rate comments before it).

    Blank lines and `#` comment lines before the header are skipped.
    """
    offset = 0
    rate_comments: list[tuple[int, str]] = []
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and stripped.strip(",;\t "):
            return offset, number, line.rstrip("\r\n"), rate_comments
        match = _RATE_COMMENT.match(stripped)
        if match:
            rate_comments.append((number, match.group(1)))
        offset += len(line)
    return -1, 0, "", rate_comments


def read_table(
    text: str,
    aliases: dict[str, tuple[str, ...]] = ALIASES,
    *,
    delimiter: str | None = None,
    text_column_fallback: str = "",
    language: str = "",
) -> Table:
    """Read a delimited cue sheet into raw cues. Never raises for bad content: see `.problems`.

    `text_column_fallback`: a field (e.g. "notes") whose column also serves as the dialogue when
    the sheet has no dialogue column (VSLink's Comment column holds the line).
    `language`: the language to record when the sheet has lines in several (`Dialogue FR`,
    `Dialogue DE`); see `_language_columns`.
    """
    table = Table()
    offset, header_line_no, header_line, rate_comments = header_position(text)
    for line_no, value in rate_comments:
        _declare_rate(table, value, line_no)
    if offset < 0:
        table.problems.append(Problem(None, "the file has no header row and no cues"))
        return table
    delim = delimiter or sniff_delimiter(header_line, aliases)

    reader = csv.reader(io.StringIO(text[offset:], newline=""), delimiter=delim, strict=False)
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        table.problems.append(Problem(header_line_no, f"cannot read the header row: {exc}"))
        return table
    languages = _language_columns(header, aliases)
    columns = _map_columns(header, aliases, header_line_no, table, set(languages.values()))
    if columns is None:
        return table
    recorded = _recorded_language(languages, language, header, header_line_no, table)
    if recorded is None:
        return table
    if recorded:
        # The dubbing language's line is the one to record; the plain one is the original.
        columns = {i: ("original" if f == "dialogue" else f) for i, f in columns.items()}
        columns[languages[recorded]] = "dialogue"
    if "dialogue" not in columns.values() and text_column_fallback in columns.values():
        columns = {i: ("dialogue" if f == text_column_fallback else f) for i, f in columns.items()}

    line_base = header_line_no - 1  # reader.line_num counts from the header line
    last_end = reader.line_num
    while True:
        start = line_base + last_end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            table.problems.append(Problem(start, f"cannot read this row: {exc}"))
            break
        last_end = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if cells[0].startswith("#"):
            match = _RATE_COMMENT.match(cells[0])
            if match:
                _declare_rate(table, match.group(1), start)
            continue
        if any(cells[len(header) :]):
            table.problems.append(
                Problem(
                    start,
                    f"{len(cells)} fields but the header has {len(header)}: "
                    f"quote fields that contain {_delim_name(delim)}",
                )
            )
            continue
        values = {name: "" for name in (*FIELD_NAMES, "original")}
        for i, name in columns.items():
            if i < len(row):
                values[name] = row[i].replace("\r\n", "\n").replace("\r", "\n").strip()
        if values["rate"]:
            _declare_rate(table, values["rate"], start)
        table.raws.append(
            RawCue(
                line=start,
                number=values["number"],
                tc_in=values["tc_in"],
                tc_out=values["tc_out"],
                character=values["character"],
                actor=values["actor"],
                dialogue=values["dialogue"],
                notes=values["notes"],
                reel=values["reel"],
                scene=values["scene"],
                original=values["original"],
                language=recorded,
            )
        )
    if not table.raws and not table.problems:
        table.problems.append(Problem(None, "the sheet has a header row but no cues"))
    return table


_NOT_LANGUAGES = {"no", "nr", "id", "in", "out", "tc", "num", "ref"}


def _language_columns(header: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Lines in a named language: `Dialogue FR`, `Line (DE)`, `FR Dialogue` -> {"FR": index}.

    A dialogue column's name with a two- or three-letter language code before or after it.
    """
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        words = normalise_header(name.replace("(", " ").replace(")", " ")).split()
        if len(words) < 2:
            continue
        for code, rest in ((words[-1], words[:-1]), (words[0], words[1:])):
            if (
                code.isalpha()
                and 2 <= len(code) <= 3
                and code not in _NOT_LANGUAGES
                and " ".join(rest) in aliases["dialogue"]
            ):
                found.setdefault(code.upper(), i)
                break
    return found


def _recorded_language(
    languages: dict[str, int], wanted: str, header: list[str], line: int, table: Table
) -> str | None:
    """The language whose column is the line to record ("" for none); None with a problem."""
    wanted = wanted.strip().upper()
    if not languages:
        return ""
    names = ", ".join(repr(header[i].strip()) for i in languages.values())
    if wanted:
        if wanted in languages:
            others = [header[i].strip() for c, i in languages.items() if c != wanted]
            if others:
                table.warnings.append(
                    f"recording the {wanted} line; columns ignored: {', '.join(others)}"
                )
            return wanted
        table.problems.append(
            Problem(line, f"no line in {wanted} (the sheet's language columns: {names})")
        )
        return None
    if len(languages) == 1:
        return next(iter(languages))
    table.problems.append(
        Problem(
            line,
            f"lines in {len(languages)} languages ({names}): choose the one to record with "
            "--language or [stage] record_language",
        )
    )
    return None


def _map_columns(
    header: list[str],
    aliases: dict[str, tuple[str, ...]],
    line: int,
    table: Table,
    language_columns: set[int] = frozenset(),
) -> dict[int, str] | None:
    """Column index -> cue field; None (with a problem) when a required column is missing.
    Columns in `language_columns` (dubbing lines) are mapped by the caller."""
    columns: dict[int, str] = {}
    where: dict[str, int] = {}
    ignored = []
    for i, name in enumerate(header):
        if not name.strip() or i in language_columns:
            continue  # trailing or spacer columns; dubbing lines
        field_name = _field_for(name, aliases)
        if not field_name:
            ignored.append(name.strip())
            continue
        if field_name in where:
            first = header[where[field_name]].strip()
            table.problems.append(
                Problem(
                    line,
                    f"columns {first!r} and {name.strip()!r} both give the "
                    f"{FIELD_NAMES[field_name]}; keep one",
                )
            )
            continue
        where[field_name] = i
        columns[i] = field_name
    missing = [f for f in REQUIRED if f not in where]
    if missing:
        accepted = "; ".join(
            f"{FIELD_NAMES[f]}: " + ", ".join(_title(a) for a in aliases[f]) for f in missing
        )
        what = " and ".join(FIELD_NAMES[f] for f in missing)
        if not where:
            # Not one cue column: this is not a cue sheet (the service may have been pointed
            # at any file it can read), so its content is not quoted back.
            table.problems.append(
                Problem(
                    line,
                    f"not a cue sheet: no {what} column in its header line (accepted names, "
                    f"any case: {accepted})",
                )
            )
            return None
        found = ", ".join(repr(h.strip()) for h in header if h.strip()) or "none"
        table.problems.append(
            Problem(
                line,
                f"no {what} column (columns found: {found}; accepted names, any case: {accepted})",
            )
        )
        return None
    if ignored:
        table.warnings.append("columns ignored (not cue fields): " + ", ".join(ignored))
    return columns


def _title(alias: str) -> str:
    if "#" in alias:
        return alias.title()
    words = [
        w.upper() if w in ("qn", "tc", "tcin", "tcout", "fps") else w.title() for w in alias.split()
    ]
    return " ".join(words)


def _delim_name(delim: str) -> str:
    return {"\t": "a tab", ";": "';'", ",": "','"}.get(delim, repr(delim))


def _declare_rate(table: Table, value: str, line: int) -> None:
    value = value.strip()
    if not value:
        return
    if not table.declared_rate:
        table.declared_rate, table.declared_rate_line = value, line
    elif normalise_header(value) != normalise_header(table.declared_rate):
        table.problems.append(
            Problem(
                line,
                f"rate {value!r} differs from rate {table.declared_rate!r} "
                f"declared on line {table.declared_rate_line}",
            )
        )
