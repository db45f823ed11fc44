"""The `stagebox` command line: one module per command group, each with `register()`.

Every command module defines `register(subparsers)`, which adds its parser and sets
`func=run(args) -> int`. Errors the user can fix are raised as `CLIError` and printed as one
line naming what is wrong, with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from stagebox import __version__

# Command modules under stagebox.cli, in the order `stagebox --help` lists them.
COMMANDS = [
    "ltc",
    "config",
    "cues",
    "takes",
    "demo",
    "run",
    "replay",
    "feed",
    "lights",
    "take",
    "streamer",
    "status",
    "monitor",
    "cue",
    "mode",
    "report",
    "doctor",
    "sync",
]


class CLIError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stagebox",
        description="ADR stage controller: LTC-locked streamers, beeps, lights and takes.",
    )
    parser.add_argument("--version", action="version", version=f"stagebox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"stagebox.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"stagebox: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `stagebox ltc decode big.wav | head`: the reader left; that is not an error.
        sys.stderr.close()
        return 0
