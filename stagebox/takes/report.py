"""The take report: one CSV row per take file in the folder, for the editor.

A take that could not be opened, or whose file is gone, has no file to report (`stagebox
takes` lists those). Written whole to a temporary file and renamed into place, so a reader
never sees half a report.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO

from stagebox.takes.log import TakeRecord
from stagebox.takes.names import guide_name

REPORT_COLUMNS = (
    "cue",
    "take",
    "state",
    "reason",
    "file",
    "tc_in",
    "tc_out",
    "circled",
    "note",
    "sync",
    "guide",  # the take's guide channel file beside it (<take>.guide.wav), "" without one
    "character",
    "date",
    "duration",
    "flags",
    "rate",
    "sample_rate",
    "line",
    "original_line",
    "tags",
    "kind",  # line (a pass through LTC), wild or roomtone
    "stamp",  # what TC-in and the TimeReference are: LTC or time of day
)


def write_report(out: str | Path | IO[str], records: list[TakeRecord], folder: Path) -> int:
    """Write `records` (takes in `folder`) as the report to a path or an open text file;
    returns the count."""
    if hasattr(out, "write"):
        _write_rows(out, records, folder)
        return len(records)
    target = Path(out)
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        _write_rows(f, records, folder)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return len(records)


def _write_rows(f: IO[str], records: list[TakeRecord], folder: Path) -> None:
    def guide(record: TakeRecord) -> str:
        name = guide_name(record.file)
        return name if (folder / name).is_file() else ""

    writer = csv.writer(f, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for r in records:
        writer.writerow(
            [
                r.cue,
                r.take,
                r.state,
                r.reason,
                r.file,
                r.tc_in,
                r.tc_out,
                "yes" if r.circled else "no",
                "; ".join([*r.flags, *([r.note] if r.note else [])]),
                r.sync,
                guide(r),
                r.character,
                r.started[:10],
                f"{r.duration:.3f}",
                "; ".join(r.flags),
                r.rate,
                r.sample_rate,
                r.line,
                r.original_line,
                r.tags,
                r.kind,
                r.stamp,
            ]
        )
