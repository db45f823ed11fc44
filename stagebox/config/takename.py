"""Take file names: the `[takes] name_template` such as `"<cue>_T<take:03>.wav"`.

A template is literal text with fields in angle brackets. `<take:03>` pads the number with
zeros to three digits. The template must contain `<take>` (else every pass of a cue would ask
for the same file name) and end in `.wav`; it names a file, never a folder.
"""

from __future__ import annotations

import re
from typing import Any

_FIELD = re.compile(r"<([a-z_]+)(?::(0?)(\d{1,2}))?>")
# Characters that are unsafe in a file name on the Pi's disk or on the engineer's Mac/PC.
_UNSAFE = re.compile(r'[/\\:*?"|\x00-\x1f]')


class TakeNameTemplate:
    """A parsed name template; `format()` gives the file name of one take."""

    FIELDS = ("cue", "take", "project", "character", "date", "time")

    def __init__(self, text: str):
        self.text = text
        problems = []
        fields = [m[1] for m in _FIELD.finditer(text)]
        for name in fields:
            if name not in self.FIELDS:
                problems.append(f"unknown field <{name}> (known: {', '.join(self.FIELDS)})")
        literal = _FIELD.sub("", text)
        if "<" in literal or ">" in literal:
            problems.append("has an unclosed or malformed <field>")
        if "take" not in fields:
            problems.append("must contain <take>, or every pass of a cue gets the same name")
        if not text.lower().endswith(".wav"):
            problems.append("must end in .wav")
        if _UNSAFE.search(literal):
            problems.append(r'must not contain / \ : * ? " | or control characters')
        if problems:
            raise ValueError(f"template {text!r}: " + "; ".join(problems))

    def format(self, **values: Any) -> str:
        """The file name for `values` (cue=, take=, project=, character=, date=, time=).

        Text values are made file-name safe (unsafe characters become `-`).
        """

        def field(match: re.Match) -> str:
            name, zero, width = match[1], match[2], match[3]
            if name not in values:
                raise KeyError(f"take name template needs a value for <{name}>")
            value = values[name]
            if isinstance(value, int) and width:
                return f"{value:{'0' if zero else ''}{int(width)}d}"
            text = _UNSAFE.sub("-", str(value))
            return text.rjust(int(width)) if width else text

        return _FIELD.sub(field, self.text)
