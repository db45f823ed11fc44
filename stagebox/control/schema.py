"""The control protocol's commands and the type of each argument, checked before dispatch.

A client is anyone in the `stagebox` group with a socket, not only the CLI: `"circled": "no"`
must not circle a take, `"take": 1.9` or `true` must not edit take 1, a path must be a path.
`check_args(cmd, args)` returns the arguments as the service may use them, or raises
ControlError naming the command and the field and saying what it must be. Nothing is coerced:
a string where a number is expected is refused, not parsed.

`changes_state` marks the commands that change the stage or the take log; the server records
who sent each of them (docs/cli.md, "Audit").
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from stagebox.control.protocol import ControlError
from stagebox.phones.matrix import DIM_RANGE, LEVEL_RANGE
from stagebox.phones.matrix import MODES as PHONE_MODES
from stagebox.phones.matrix import SOURCES as PHONE_SOURCES
from stagebox.safefile import path_problem
from stagebox.snapshot import MODES

MAX_TEXT = 4096  # characters in any text argument (a note is capped lower by its take file)
MAX_CUE = 64  # characters in a cue number ("R2-17A" is long)
MAX_TAKE = 9999  # take numbers are written with up to 4 digits in file names and reports


@dataclass(frozen=True)
class Arg:
    """One argument: its JSON type and limits."""

    kind: str  # "str", "int", "number" (int or float), "bool" or "path"
    required: bool = True
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_chars: int = MAX_TEXT

    def check(self, cmd: str, name: str, value: object) -> object:
        where = f"{cmd}: {name!r}"
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ControlError(f"{where} must be true or false, not {_shown(value)}")
            return value
        if self.kind == "int":
            # JSON numbers: 1.9, 1e400 (inf), NaN and booleans are not take numbers.
            if isinstance(value, bool) or not isinstance(value, int):
                raise ControlError(f"{where} must be a whole number, not {_shown(value)}")
            if self.minimum is not None and value < self.minimum:
                raise ControlError(f"{where} must be {self.minimum} or more, not {value}")
            if self.maximum is not None and value > self.maximum:
                raise ControlError(f"{where} must be {self.maximum} or less, not {value}")
            return value
        if self.kind == "number":  # a level in dB: -6 or -6.5; not NaN, inf or a boolean
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ControlError(f"{where} must be a number, not {_shown(value)}")
            if not math.isfinite(value):
                raise ControlError(f"{where} must be a finite number, not {_shown(value)}")
            if self.minimum is not None and value < self.minimum:
                raise ControlError(f"{where} must be {self.minimum:g} or more, not {value:g}")
            if self.maximum is not None and value > self.maximum:
                raise ControlError(f"{where} must be {self.maximum:g} or less, not {value:g}")
            return float(value)
        if not isinstance(value, str):
            raise ControlError(f"{where} must be a string, not {_shown(value)}")
        if len(value) > self.max_chars:
            raise ControlError(f"{where} is longer than {self.max_chars} characters")
        if _has_surrogate(value):
            raise ControlError(f"{where} contains a lone surrogate (not valid Unicode text)")
        if self.choices is not None and value not in self.choices:
            raise ControlError(
                f"{where} must be {', '.join(self.choices[:-1])} or {self.choices[-1]}, "
                f"not {_shown(value)}"
            )
        if self.kind == "path":
            problem = path_problem(value)
            if problem:
                raise ControlError(f"{where}: {problem}")
            if not os.path.isabs(value):
                raise ControlError(
                    f"{where} must be an absolute path (the service's working folder is not "
                    f"yours): {_shown(value)}"
                )
        return value


@dataclass(frozen=True)
class Command:
    args: dict[str, Arg]
    changes_state: bool = False  # audited: the journal records who sent it
    inline: bool = False  # answered at once from the snapshot (never waits on anything)


_CUE = Arg("str", max_chars=MAX_CUE)
_TAKE = Arg("int", minimum=1, maximum=MAX_TAKE)

COMMANDS: dict[str, Command] = {
    "status": Command({}, inline=True),
    "mode": Command({"mode": Arg("str", choices=tuple(MODES))}, changes_state=True),
    "cue": Command({"which": Arg("str", max_chars=MAX_CUE)}, changes_state=True),
    "cues.load": Command(
        {"path": Arg("path"), "encoding": Arg("str", required=False, max_chars=40)},
        changes_state=True,
    ),
    "cues.list": Command({}, inline=True),
    "takes": Command({"cue": Arg("str", required=False, max_chars=MAX_CUE)}),
    "take.circle": Command(
        {"cue": _CUE, "take": _TAKE, "circled": Arg("bool", required=False)}, changes_state=True
    ),
    "take.note": Command({"cue": _CUE, "take": _TAKE, "text": Arg("str")}, changes_state=True),
    "report": Command({}),
    "lights.test": Command({}, changes_state=True),
    "review": Command(  # stagebox.service.review: nothing given = what is under review
        {
            "cue": Arg("str", required=False, max_chars=MAX_CUE),
            "take": Arg("int", required=False, minimum=1, maximum=MAX_TAKE),
            "which": Arg("str", required=False, choices=("last", "circled", "next", "previous")),
        },
        changes_state=True,
    ),
    "daw": Command(  # MMC to the DAW: stagebox.daw.control.DawControl.request
        {
            "action": Arg("str", choices=("locate", "play", "stop", "status")),
            "to": Arg("str", required=False, max_chars=MAX_CUE),
        },
        changes_state=True,
    ),
    "phones": Command({}, inline=True),  # the headphone mix: matrix, levels, meters
    "phones.set": Command(  # one live change: stagebox.phones.control
        {
            "source": Arg("str", required=False, choices=PHONE_SOURCES),
            "level_db": Arg(
                "number", required=False, minimum=LEVEL_RANGE[0], maximum=LEVEL_RANGE[1]
            ),
            "on": Arg("bool", required=False),
            "mode": Arg("str", required=False, choices=PHONE_MODES),
            "dim_db": Arg("number", required=False, minimum=DIM_RANGE[0], maximum=DIM_RANGE[1]),
        },
        changes_state=True,
    ),
    # Room tone and wild lines (stagebox.service.localtakes): seconds 1..600.
    "roomtone": Command(
        {
            "seconds": Arg("int", required=False, minimum=1, maximum=600),
            "scene": Arg("str", required=False, max_chars=32),
        },
        changes_state=True,
    ),
    "wild": Command(
        {
            "cue": Arg("str", required=False, max_chars=MAX_CUE),
            "seconds": Arg("int", required=False, minimum=1, maximum=600),
        },
        changes_state=True,
    ),
}


def check_args(cmd: str, args: dict) -> dict:
    """`args` checked against `cmd`'s schema; ControlError naming the field otherwise."""
    command = COMMANDS.get(cmd)
    if command is None:
        raise ControlError(f"unknown command {_shown(cmd)} (known: {', '.join(COMMANDS)})")
    unknown = sorted(set(args) - set(command.args))
    if unknown:
        known = ", ".join(command.args) or "none"
        raise ControlError(f"{cmd}: unknown argument {_shown(unknown[0])} (it takes: {known})")
    checked = {}
    for name, arg in command.args.items():
        if name not in args:
            if arg.required:
                raise ControlError(f"{cmd}: {name!r} is missing")
            continue
        checked[name] = arg.check(cmd, name, args[name])
    return checked


def changes_state(cmd: str) -> bool:
    command = COMMANDS.get(cmd)
    return bool(command and command.changes_state)


def answered_inline(cmd: str) -> bool:
    command = COMMANDS.get(cmd)
    return bool(command and command.inline)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _shown(value: object) -> str:
    """A client's value, short and printable, for an error message."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    text = repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= 40 else text[:37] + "..."
