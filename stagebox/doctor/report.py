"""A doctor check's result, and the table and JSON the engineer reads."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass, field

PASS = "PASS"
WARN = "WARN"
FAIL = "FAIL"
SKIP = "SKIP"  # not run: an option left it out, or an earlier check it needs failed
STATUSES = (PASS, WARN, FAIL, SKIP)


@dataclass(frozen=True)
class Result:
    """What one check found: the part, the verdict, what was seen and how to fix it."""

    check: str  # the part checked, in the stage's words: "sound card", "gpio lines"
    status: str  # PASS | WARN | FAIL | SKIP
    detail: str  # what was found, with the numbers
    fix: str = ""  # what to do about a WARN or FAIL (empty on a PASS)
    data: dict = field(default_factory=dict)  # the measured values, for --json

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")


def render_table(results: list[Result], width: int = 100) -> str:
    """A fixed-width table: status, check, detail, and the fix on the line below."""
    name_w = max([len("check"), *(len(r.check) for r in results)])
    text_w = max(30, width - name_w - 9)
    lines = [f"{'':6} {'check':<{name_w}}  found", f"{'':6} {'-' * name_w}  {'-' * 5}"]
    for r in results:
        detail = textwrap.wrap(r.detail, text_w, break_on_hyphens=False) or [""]
        lines.append(f"{r.status:<6} {r.check:<{name_w}}  {detail[0]}")
        lines += [f"{'':6} {'':<{name_w}}  {more}" for more in detail[1:]]
        if r.fix:
            fix = textwrap.wrap(f"fix: {r.fix}", text_w, break_on_hyphens=False)
            lines += [f"{'':6} {'':<{name_w}}  {more}" for more in fix]
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    lines.append("")
    lines.append(", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]))
    return "\n".join(lines)


def to_json(results: list[Result]) -> str:
    return json.dumps({"results": [asdict(r) for r in results], "ok": exit_status(results) == 0})


def exit_status(results: list[Result]) -> int:
    """0 when nothing failed (warnings allowed), 1 otherwise."""
    return 1 if any(r.status == FAIL for r in results) else 0
