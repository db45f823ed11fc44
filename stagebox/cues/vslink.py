"""CB Electronics VSLink ADR lists: tab-separated, columns Edit, Record Time In, Record Time Out,
Character, Comment.

In these lists `Edit` is the cue number (the edit-list event), not a timecode, and the `Comment`
column carries the line the actor reads, so it becomes the cue's dialogue unless the list also
has a Dialogue column (then Comment stays a note).
"""

from __future__ import annotations

from stagebox.cues.table import ALIASES, Table, normalise_header, read_table

VSLINK_ALIASES: dict[str, tuple[str, ...]] = {
    **ALIASES,
    "number": ("edit", "edit #", "edit no", "event"),
    "tc_in": ("record time in", "record in", "rec time in", "rec in"),
    "tc_out": ("record time out", "record out", "rec time out", "rec out"),
}


def looks_like_vslink(header_line: str) -> bool:
    """A tab-separated header with an Edit column and a Record Time In column."""
    cells = {normalise_header(c) for c in header_line.split("\t")}
    return "edit" in cells and bool(cells & set(VSLINK_ALIASES["tc_in"]))


def read_vslink(text: str, language: str = "") -> Table:
    return read_table(
        text, VSLINK_ALIASES, delimiter="\t", text_column_fallback="notes", language=language
    )
