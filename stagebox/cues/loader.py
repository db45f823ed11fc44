"""`load_cue_sheet`: read a cue sheet file of any supported format into a `CueSheet`.

The format is sniffed from the content, not the extension (a `.txt` may be a Pro Tools export,
an Avid locator list, a tab-separated list or a CSV): Pro Tools session text first, then DetX
XML, Avid locator text, a CMX3600 EDL, a VSLink header, then any delimited table whose header
row names at least one cue column. Anything else is "format not supported", with the list of
formats.

The text encoding: UTF-16 with a BOM, else UTF-8 (with or without BOM). A Pro Tools session
export that is not valid UTF-8 is read as Mac Roman, the encoding Pro Tools writes with its
default "TextEdit" option; the sheet says which encoding it was read in (`CueSheet.encoding`).
Any other encoding is given by the caller: forced (`--encoding`), or as the encoding of sheets
that are not UTF-8 (`stage.cue_sheet_encoding`, which never garbles a UTF-8 sheet).

The rate comes from, in order: the caller (the stage config), the file (Pro Tools' TIMECODE
FORMAT, a `# rate:` comment or a Rate column), the LTC's measured rate (`cues load` on a
running stage, `replay`; said in a warning), a drop-frame `;` in the timecodes (29.97df).
Failing all of them, loading fails with a message saying where to set the rate.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
from pathlib import Path

from stagebox.cues.detx import looks_like_detx, read_detx
from stagebox.cues.errors import CueSheetError, Problem
from stagebox.cues.locators import (
    looks_like_avid_locators,
    looks_like_edl,
    read_avid_locators,
    read_edl,
)
from stagebox.cues.protools import looks_like_protools, read_protools
from stagebox.cues.rows import build_cues, timecode_texts
from stagebox.cues.sheet import CueSheet
from stagebox.cues.table import Table, header_position, known_columns, read_table
from stagebox.cues.vslink import looks_like_vslink, read_vslink
from stagebox.safefile import FileRefused, open_regular
from stagebox.timecode import RATE_2997DF, Rate, TimecodeError

log = logging.getLogger(__name__)

MAX_SHEET_BYTES = 20 * 1024 * 1024  # a cue sheet of thousands of cues is well under 1 MB
MARKER_CUE_SECONDS = 4.0  # default length of a marker or locator cue without an OUT time
# Formats whose cues are points (markers, locators): TC-out defaults to MARKER_CUE_SECONDS.
SPOTTED_FORMATS = ("protools", "avid-locators", "edl")
SUPPORTED = (
    "supported: CSV/TSV cue sheets with a header row naming the columns, CB Electronics VSLink "
    "ADR lists, Pro Tools session text, Avid Media Composer locator text, CMX3600 EDLs with "
    "* LOC: locators, DetX rythmo files"
)


def load_cue_sheet(
    path: str | Path,
    rate: Rate | None = None,
    *,
    encoding: str | None = None,
    fallback_encoding: str | None = None,
    language: str = "",
    marker_cue_seconds: float = MARKER_CUE_SECONDS,
    fallback_rate: Rate | None = None,
) -> CueSheet:
    """Load and check a cue sheet. Raises `CueSheetError` listing every problem of the file.

    `fallback_rate`: the rate to use when neither `rate` nor the sheet gives one (the rate
    measured from the LTC itself).
    `rate`: the stage's configured rate; it wins over what the file says (a disagreement is
    noted in `CueSheet.warnings`). `encoding`: the file's text encoding, forced (None or
    "auto": UTF-16 with a BOM, else UTF-8 with or without BOM). `fallback_encoding`: the
    encoding of a file that turns out not to be UTF-8 (None or "auto": Mac Roman for a Pro
    Tools export, else refused); the stage config's `cue_sheet_encoding`.
    `language`: the language to record when a sheet has lines in several (`Dialogue FR` and
    `Dialogue DE` columns); the stage config's `record_language`.
    `marker_cue_seconds`: length of a Pro Tools marker cue that has no OUT time in its comment.
    """
    path = Path(path)
    text, encoding = read_sheet_text(path, encoding, fallback_encoding)
    if not text.strip():
        raise CueSheetError(path, [Problem(None, "the file is empty")])

    if looks_like_protools(text):
        source_format = "protools"
        file_rate = _declared(read_protools(text, None), rate)
        table = read_protools(text, rate or file_rate or fallback_rate)
    elif looks_like_detx(text):
        source_format, table = "detx", read_detx(text, rate or fallback_rate or _df_hint(text))
    elif looks_like_avid_locators(text):
        source_format, table = "avid-locators", read_avid_locators(text)
    elif looks_like_edl(text):
        source_format, table = "edl", read_edl(text)
    else:
        _, _, header_line, _ = header_position(text)
        if looks_like_vslink(header_line):
            source_format, table = "vslink", read_vslink(text, language)
        elif known_columns(header_line):
            source_format, table = "csv", read_table(text, language=language)
        else:
            raise CueSheetError(path, [Problem(None, f"format not supported ({SUPPORTED})")])

    problems = list(table.problems)
    warnings = list(table.warnings)
    sheet_rate = _resolve_rate(rate, table, problems, warnings, fallback_rate)
    if sheet_rate is None:
        raise CueSheetError(path, problems)

    default_length = None
    if source_format in SPOTTED_FORMATS:
        default_length = max(1, round(marker_cue_seconds * sheet_rate.nominal))
    cues = build_cues(table.raws, sheet_rate, problems, default_length=default_length)
    if problems:
        raise CueSheetError(path, problems)
    if not cues:
        raise CueSheetError(path, [Problem(None, "the sheet has no cues")])
    for warning in warnings:
        log.warning("%s: %s", path.name, warning)
    return CueSheet(
        path, sheet_rate, cues, source_format=source_format, warnings=warnings, encoding=encoding
    )


def read_sheet_text(
    path: Path, encoding: str | None = None, fallback: str | None = None
) -> tuple[str, str]:
    """The text of the cue sheet at `path` (a regular file, size-capped) and the encoding it
    was read in (`encoding` None or "auto": detect; `fallback`: a non-UTF-8 file's)."""
    try:
        with os.fdopen(open_regular(path, MAX_SHEET_BYTES, "cue sheet"), "rb") as f:
            data = f.read(MAX_SHEET_BYTES + 1)
    except FileRefused as exc:
        raise CueSheetError(path, [Problem(None, _refused(exc.reason))]) from None
    except OSError as exc:
        raise CueSheetError(
            path, [Problem(None, f"cannot read the file: {exc.strerror}")]
        ) from None
    if len(data) > MAX_SHEET_BYTES:
        raise CueSheetError(
            path,
            [Problem(None, f"the file is over {MAX_SHEET_BYTES // 2**20} MB: not a cue sheet")],
        )
    if encoding in (None, "", "auto"):
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8-sig"
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                if fallback not in (None, "", "auto"):
                    encoding = fallback
                elif _protools_bytes(data):
                    encoding = "mac_roman"  # Pro Tools' default "TextEdit" export
    try:
        text = data.decode(encoding)
    except LookupError:
        raise CueSheetError(path, [Problem(None, f"unknown text encoding {encoding!r}")]) from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise CueSheetError(
            path,
            [
                Problem(
                    line,
                    f"byte 0x{byte} is not {encoding.replace('-sig', '')} text: save the sheet as "
                    "UTF-8 (or give its encoding, e.g. cp1252 or mac_roman)",
                )
            ],
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CueSheetError(path, [Problem(line, "the file contains NUL bytes: not a text file")])
    name = codecs.lookup(encoding).name
    return text, "utf-8" if name == "utf-8-sig" else name


def _protools_bytes(data: bytes) -> bool:
    """A Pro Tools session text export, told from its ASCII header and section titles."""
    head = data[:4000].lstrip(codecs.BOM_UTF8)
    return head.startswith(b"SESSION NAME:") or any(
        title in data for title in (b"M A R K E R S  L I S T I N G", b"T R A C K  L I S T I N G")
    )


def _df_hint(text: str) -> Rate | None:
    """29.97 drop-frame when the file writes drop-frame timecodes (`01:00:00;00`)."""
    return RATE_2997DF if re.search(r"\d\d:\d\d:\d\d;\d\d", text) else None


def _declared(table: Table, rate: Rate | None) -> Rate | None:
    if rate is not None or not table.declared_rate:
        return None
    try:
        return Rate.parse(table.declared_rate)
    except TimecodeError:
        return None


def _resolve_rate(
    rate: Rate | None,
    table: Table,
    problems: list[Problem],
    warnings: list[str],
    fallback: Rate | None = None,
) -> Rate | None:
    declared: Rate | None = None
    if table.declared_rate:
        try:
            declared = Rate.parse(table.declared_rate)
        except TimecodeError as exc:
            # Even with the stage's rate set: a rate of "-25", "nan" or "0" is a typo to fix,
            # not something to fall back from silently.
            problems.append(Problem(table.declared_rate_line, str(exc)))
            if rate is None:
                return None
    if rate is not None:
        if declared is not None and declared != rate:
            warnings.append(
                f"the sheet says {declared} (line {table.declared_rate_line}) "
                f"but the stage is set to {rate}: using {rate}"
            )
        return rate
    if declared is not None:
        return declared
    if fallback is not None:
        warnings.append(f"no rate in the sheet or the stage config: using the LTC's, {fallback}")
        return fallback
    if any(";" in text for text in timecode_texts(table.raws)):
        return RATE_2997DF
    if table.raws or not problems:
        problems.append(
            Problem(
                None,
                "the timecode rate is not known: set `rate` in the stage config, or add a line "
                "'# rate: 25' (or a Rate column) to the sheet",
            )
        )
    return None


def _refused(reason: str) -> str:
    """open_regular's reason in the loader's words ("cannot read the file: ...")."""
    prefix = "cannot open the cue sheet: "
    if reason.startswith(prefix):
        return "cannot read the file: " + reason[len(prefix) :]
    if "too large" in reason:
        return f"the file is over {MAX_SHEET_BYTES // 2**20} MB: not a cue sheet"
    return reason
