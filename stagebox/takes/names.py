"""Take file names from a template: `<cue>_T<take:03>.wav` -> `101_T003.wav`.

Fields: `<cue>`, `<take>`, `<character>`, `<project>`, `<date>` (YYYYMMDD), `<time>` (HHMMSS,
when the take started). `<cue>` and `<take>` accept a zero-pad width, `<take:03>` (`<take:3>`
pads with zeros too: spaces in a file name help nobody). A template must contain `<take>` (two
passes of a cue would otherwise get the same name) and end in `.wav` or `.bwf`.

Field values are made safe for a file name: path separators, control characters and characters
that Windows or Pro Tools reject become `_`, runs of dots collapse to one, spaces become `_`.
A file name can therefore never climb out of the takes folder.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TEMPLATE = "<cue>_T<take:03>.wav"
FIELDS = ("cue", "take", "character", "project", "date", "time")
PADDABLE = ("cue", "take")
EXTENSIONS = (".wav", ".bwf")
MAX_NAME_BYTES = 255  # ext4 file name limit

_FIELD = re.compile(r"<([^<>]*)>")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


class TakeNameError(ValueError):
    """A take name template that cannot name takes; the message names the template."""


@dataclass(frozen=True)
class _Part:
    literal: str = ""
    field: str = ""
    width: int = 0  # zero-pad width; 0: none


def parse_template(template: str) -> tuple[_Part, ...]:
    """Check a template and split it into literal text and fields (TakeNameError if bad)."""
    parts: list[_Part] = []
    pos = 0
    seen = set()
    for match in _FIELD.finditer(template):
        parts.append(_Part(literal=template[pos : match.start()]))
        name, _, spec = match.group(1).partition(":")
        name = name.strip().lower()
        if name not in FIELDS:
            raise TakeNameError(
                f"take name template {template!r}: unknown field <{match.group(1)}> "
                f"(fields: {', '.join('<' + f + '>' for f in FIELDS)})"
            )
        width = 0
        if spec:
            if name not in PADDABLE:
                raise TakeNameError(
                    f"take name template {template!r}: <{name}> takes no format spec"
                )
            if not re.fullmatch(r"0?\d{1,2}", spec, re.ASCII) or not 1 <= int(spec) <= 20:
                raise TakeNameError(
                    f"take name template {template!r}: bad spec {spec!r} in "
                    f"<{match.group(1)}> (write a width 1..20, e.g. <{name}:03>)"
                )
            width = int(spec)
        parts.append(_Part(field=name, width=width))
        seen.add(name)
        pos = match.end()
    parts.append(_Part(literal=template[pos:]))
    literal_text = "".join(p.literal for p in parts)
    if "<" in literal_text or ">" in literal_text:
        raise TakeNameError(f"take name template {template!r}: unbalanced '<' or '>'")
    if _UNSAFE.search(literal_text) or ".." in literal_text:
        raise TakeNameError(
            f"take name template {template!r}: the fixed text must not contain path "
            "separators, '..' or control characters (takes go into one folder)"
        )
    if "take" not in seen:
        raise TakeNameError(
            f"take name template {template!r}: no <take> field, so every pass of a cue "
            "would get the same name"
        )
    if not template.lower().endswith(EXTENSIONS):
        raise TakeNameError(f"take name template {template!r}: must end in .wav or .bwf")
    return tuple(p for p in parts if p.literal or p.field)


def safe_component(text: str) -> str:
    """A field value made safe inside a file name."""
    text = _UNSAFE.sub("_", str(text))
    text = "_".join(text.split())
    text = re.sub(r"\.{2,}", ".", text)
    return text


def format_take_name(
    template: str = DEFAULT_TEMPLATE,
    *,
    cue: str,
    take: int,
    character: str = "",
    project: str = "",
    date: _dt.date | str | None = None,
    time: _dt.time | _dt.datetime | str | None = None,
) -> str:
    """The file name of take `take` of `cue` (TakeNameError for a bad template or take)."""
    if not isinstance(take, int) or take < 1:
        raise TakeNameError(f"take number must be a whole number from 1, not {take!r}")
    now = _dt.datetime.now()
    if date is None:
        date = now.date()
    if time is None:
        time = now.time()
    values = {
        "cue": str(cue).strip(),
        "take": str(take),
        "character": str(character).strip(),
        "project": str(project).strip(),
        "date": date.strftime("%Y%m%d") if isinstance(date, _dt.date) else str(date),
        "time": time.strftime("%H%M%S") if isinstance(time, _dt.time | _dt.datetime) else str(time),
    }
    out = []
    for part in parse_template(template):
        if not part.field:
            out.append(part.literal)
            continue
        value = safe_component(values[part.field])
        if part.width and value.isdigit():
            value = value.zfill(part.width)
        out.append(value)
    name = "".join(out).lstrip(".")
    if not name or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise TakeNameError(
            f"take name template {template!r} gives an unusable name {name!r} for cue {cue!r}"
        )
    return name


def take_name_pattern(template: str, cue: str) -> re.Pattern[str]:
    """A pattern matching the names `template` gives takes of `cue`; group 1 is the take."""
    pieces = []
    for part in parse_template(template):
        if not part.field:
            pieces.append(re.escape(part.literal))
        elif part.field == "take":
            pieces.append(r"(\d+)")
        elif part.field == "cue":
            value = safe_component(str(cue).strip())
            if part.width and value.isdigit():
                value = value.zfill(part.width)
            pieces.append(re.escape(value))
        else:
            pieces.append(r".*?")
    return re.compile("".join(pieces), re.IGNORECASE | re.ASCII)


GUIDE_SUFFIX = ".guide.wav"  # a take's guide channel kept beside it (takes/guidetrack.py)


def guide_name(take_file: str | Path) -> str:
    """The guide file's name beside take `take_file`: `101_T003.wav` -> `101_T003.guide.wav`."""
    return Path(take_file).stem + GUIDE_SUFFIX


def is_guide_file(name: str | Path) -> bool:
    """A take's guide channel file (never a take of its own)."""
    return Path(name).name.lower().endswith(GUIDE_SUFFIX)
