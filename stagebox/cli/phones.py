"""`stagebox phones`: the actor's headphone mix (asks the service).

    stagebox phones                      the matrix, the levels, the meters
    stagebox phones guide -6             the guide's level in dB
    stagebox phones guide off|on         the guide out of / into the mix in the stage's mode
    stagebox phones guide on --mode record    ... in another mode's row of the matrix
    stagebox phones talkback on|off      talkback live (as if its button were held) / released
    stagebox phones dim -15              what talkback takes off the other sources, dB

A change takes effect on the next audio period, ramped over phones.ramp_ms. It is live only:
a restart or `systemctl reload stagebox` goes back to the config file's [phones].
"""

from __future__ import annotations

import argparse
import math
import re

from stagebox.cli import CLIError, remote
from stagebox.phones.matrix import MODES, SOURCES, SWITCHED

_LEVEL = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(?:db)?\s*$", re.IGNORECASE)


def register(sub: argparse._SubParsersAction) -> None:
    phones = sub.add_parser(
        "phones",
        help="the actor's headphone mix: show it, set a source's level, switch it, talkback",
        description=__doc__.split("\n\n")[-1].strip(),
    )
    phones.add_argument(
        "source",
        nargs="?",
        choices=(*SOURCES, "dim"),
        metavar="SOURCE",
        help=f"one of {', '.join(SOURCES)}, or dim (talkback's dim of the others)",
    )
    phones.add_argument("value", nargs="?", metavar="DB|on|off", help="a level in dB, on or off")
    phones.add_argument(
        "--mode",
        choices=MODES,
        help="with on/off: the matrix row to change (default: the stage's mode now)",
    )
    phones.add_argument("--json", action="store_true", help="print the mix as JSON")
    remote.add_socket_option(phones)
    phones.set_defaults(func=run)


def request_for(source: str, value: str, mode: str | None) -> dict:
    """The `phones.set` request for `stagebox phones SOURCE VALUE [--mode M]`."""
    word = value.strip().lower()
    if source == "dim":
        if mode:
            raise CLIError("phones dim: --mode does not apply (talkback dims in every mode)")
        return {"dim_db": _level(value, "dim")}
    if word in ("on", "off"):
        request = {"source": source, "on": word == "on"}
        if mode:
            if source not in SWITCHED:
                raise CLIError(
                    f"phones {source}: --mode does not apply: talkback is live in "
                    "every mode while held"
                )
            request["mode"] = mode
        return request
    if mode:
        raise CLIError(f"phones {source} {value}: --mode goes with on or off, not a level")
    return {"source": source, "level_db": _level(value, source)}


def _level(text: str, what: str) -> float:
    match = _LEVEL.match(text)
    if not match or not math.isfinite(float(match.group(1))):
        raise CLIError(f"phones {what}: {text!r} is not a level in dB (e.g. -6), on or off")
    return float(match.group(1))


def run(args: argparse.Namespace) -> int:
    if args.source is None:
        if args.mode:
            raise CLIError("phones: --mode goes with a source and on or off")
        state = remote.call(args, "phones")
    elif args.value is None:
        raise CLIError(f"phones {args.source}: give a level in dB, on or off")
    else:
        state = remote.call(args, "phones.set", request_for(args.source, args.value, args.mode))
    if args.json:
        remote.print_json(state)
    else:
        print("\n".join(show(state)))
    return 0


def show(state: dict) -> list[str]:
    """The mix as a table: a row per source, a column per mode, the level, where it comes from
    and its meter (held peak, dBFS); the stage's mode is marked with *."""
    mode = state.get("mode")
    levels, modes = state["levels_db"], state["modes"]
    channels, wired = state["channels"], state["wired"]
    meters = state.get("meters_dbfs") or {}
    heads = [f"{m}*" if m == mode else m for m in MODES]
    lines = [
        f"{'source':<9} {'level':>8}  "
        + "  ".join(f"{h:<9}" for h in heads)
        + f"{'from':<16} meter"
    ]
    for source in SOURCES:
        if source == "talkback":
            cells = ["held"] * len(MODES)
        else:
            cells = ["on" if m in modes.get(source, ()) else "-" for m in MODES]
        lines.append(
            f"{source:<9} {levels[source]:>5.1f} dB  "
            + "  ".join(f"{c:<9}" for c in cells)
            + f"{_origin(source, channels, wired):<16} {_meter(meters.get(source))}"
        )
    lines.append(
        f"{'phones':<9} {'':>8}  " + " " * (11 * len(MODES) - 2) + f"{'(the mix)':<16} "
        f"{_meter(meters.get('phones'))}"
    )
    live = "LIVE" if state.get("talkback_live") else "off"
    lines.append(
        f"talkback {live}, dims the others by {-state['talkback_dim_db']:g} dB; "
        f"changes ramp over {state['ramp_ms']:g} ms; "
        f"{state.get('clipped', 0)} samples clipped at full scale"
    )
    return lines


def _origin(source: str, channels: dict, wired: dict) -> str:
    if source in ("beeps", "review"):
        return "stage" if source == "beeps" else "review player"
    if not wired.get(source):
        return "not wired"
    found = channels.get(source)
    if isinstance(found, list):
        return "in " + "+".join(map(str, found))
    return f"in {found}"


def _meter(value: float | None) -> str:
    return "  -inf" if value is None else f"{value:6.1f}"
