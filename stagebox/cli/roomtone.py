"""`stagebox roomtone [--seconds 30] [--scene S]`: record room tone now (asks the service).

The stage records `--seconds` of the room with no LTC needed, named and tagged as room tone for
the current cue's reel and scene (`--scene` names another); the actor's screen says "ROOM
TONE, quiet please" with a countdown. The same command while it records stops it early.
"""

from __future__ import annotations

import argparse

from stagebox.cli import remote
from stagebox.cli.argtypes import whole


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "roomtone", help="record room tone now (no LTC needed); again: stop it early"
    )
    p.add_argument("--seconds", type=whole, help="length in seconds, 1-600 (default 30)")
    p.add_argument("--scene", help="the scene it is the tone of (default: the current cue's)")
    p.add_argument("--json", action="store_true", help="print the service's answer as JSON")
    remote.add_socket_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    request = {k: v for k, v in (("seconds", args.seconds), ("scene", args.scene)) if v is not None}
    return report(args, remote.call(args, "roomtone", request), "roomtone")


def report(args: argparse.Namespace, answer: dict, command: str) -> int:
    """One line for `roomtone` and `wild`: what the stage started or stopped."""
    if args.json:
        remote.print_json(answer)
        return 0
    what = "room tone" if answer.get("kind") == "roomtone" else "wild line"
    head = f"{what} {answer.get('cue')}"
    if answer.get("take") is not None:  # none when a count-in was cancelled: nothing recorded
        head += f" take {answer['take']}"
    if answer.get("state") == "stopped":
        print(f"{head}: {answer.get('detail')}")
        return 0
    seconds = answer.get("seconds")
    length = f"{seconds} s" if seconds else "until stopped"
    count_in = answer.get("count_in") or 0
    start = f"count-in {count_in:.2f} s, then recording" if count_in else "recording"
    print(f"{head}: {start} {length} (stagebox {command} again stops it)")
    return 0
