"""The ADR tag grammar of Pro Tools spotting sessions: `{Key=Value}`, `$Key=Value`, `[Flag]`.

ADR editors spot a cue as a clip on the character's track and write its facts into names and
comments as tags, the convention read by ptulsconv (iluvcapra/ptulsconv, the open-source ADR
reporter for Pro Tools):

    "Does this belong to you?" {R=Replace Line} {Note=softer} $QN=P101 [ADLIB]

- `{Key=Value}`: the value runs to the closing brace and may hold spaces;
- `$Key=Value`: the value is one word;
- `[Flag]`: a flag, read as `Flag=Flag`.

Keys start with a letter and hold letters, digits and `_`. Whatever is not a tag is the text
(the line the actor reads), with its spaces tidied. A name starting with `@` is a time-range
clip (its tags apply to the clips under it), with `&` a continuation of the clip before it.

Braces holding a timecode (`{01:00:03:12}`, word timing marks) are not tags: they have no `=`.
The grammar is parsed once here and every importer uses it; unknown keys are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KEY = r"[A-Za-z][A-Za-z0-9_]*"
_TAG = re.compile(
    rf"\{{\s*(?P<bkey>{_KEY})\s*=(?P<bval>[^}}]*)\}}"  # {Key=Value with spaces}
    rf"|(?<!\S)\$(?P<skey>{_KEY})=(?P<sval>\S*)"  # $Key=Word
    rf"|\[(?P<flag>{_KEY})\]"  # [Flag]
)

TIME_RANGE = "@"  # the clip's tags apply to clips beginning within its time on later tracks
CONTINUED = "&"  # the clip continues the one before it on its track


@dataclass(frozen=True)
class Tagged:
    """A name or comment split into its text and its tags (in the order written)."""

    text: str
    tags: dict[str, str] = field(default_factory=dict)
    mode: str = ""  # "", TIME_RANGE or CONTINUED


def parse_tags(source: str) -> Tagged:
    """Split `source` into text and tags. A key written twice keeps its last value."""
    text = source.strip()
    mode = ""
    if text[:1] in (TIME_RANGE, CONTINUED):
        mode, text = text[0], text[1:]
    tags: dict[str, str] = {}
    for match in _TAG.finditer(text):
        if match.group("flag"):
            key = value = match.group("flag")
        elif match.group("bkey"):
            key, value = match.group("bkey"), match.group("bval").strip()
        else:
            key, value = match.group("skey"), match.group("sval")
        tags[key] = value
    rest = _TAG.sub(" ", text)
    lines = [" ".join(line.split()) for line in rest.splitlines()]
    return Tagged("\n".join(line for line in lines if line), tags, mode)


def merge(*layers: dict[str, str]) -> dict[str, str]:
    """Tags of several layers, the later layer winning (session < marker < track < clip)."""
    out: dict[str, str] = {}
    for layer in layers:
        out.update(layer)
    return out


def tag_text(tags: dict[str, str]) -> str:
    """Tags written back in the grammar (flags as `[Flag]`, values with spaces in braces)."""
    parts = []
    for key, value in tags.items():
        if value == key:
            parts.append(f"[{key}]")
        elif value and not any(ch.isspace() for ch in value) and "}" not in value:
            parts.append(f"${key}={value}")
        else:
            parts.append(f"{{{key}={value}}}")
    return " ".join(parts)
