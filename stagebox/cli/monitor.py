"""`stagebox monitor [--once]`: the live stage view for an SSH session (asks the service).

Big timecode, lock, rate and speed, mode, current and next cue, take and REC, lamps, an input
meter per channel with peak hold, xruns, disk time left, the last message; `q` or Ctrl-C quits.
`--once` prints one frame and exits (scripts, tests, a quick look).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from stagebox.cli import CLIError, remote
from stagebox.cli.argtypes import whole


def register(sub: argparse._SubParsersAction) -> None:
    monitor = sub.add_parser("monitor", help="live view of the stage in the terminal (q quits)")
    monitor.add_argument("--once", action="store_true", help="print one frame and exit")
    monitor.add_argument("--width", type=whole, metavar="COLS", help="frame width for --once")
    monitor.add_argument("--height", type=whole, metavar="ROWS", help="frame height for --once")
    monitor.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour (auto: on a terminal, unless NO_COLOR is set)",
    )
    monitor.add_argument(
        "--ascii", action="store_true", help="plain ASCII (default when the terminal is not UTF-8)"
    )
    remote.add_socket_option(monitor)
    monitor.set_defaults(func=run)


def _use_colour(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


def _use_ascii(forced: bool) -> bool:
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    return forced or encoding != "utf8"


def run(args: argparse.Namespace) -> int:
    from stagebox.monitor.render import render

    colour = _use_colour(args.color)
    ascii = _use_ascii(args.ascii)
    if args.once:
        size = shutil.get_terminal_size((80, 24))
        width = args.width or size.columns
        height = args.height or size.lines
        if width < 20 or height < 10:
            raise CLIError(f"a frame of {width}x{height} is too small (20x10 at least)")
        status = remote.call(args, "status")
        print("\n".join(render(status, width, height, colour=colour, ascii=ascii)))
        return 0
    if not sys.stdout.isatty():
        raise CLIError(
            "monitor needs a terminal; for scripts use `stagebox monitor --once` "
            "or `stagebox status --json`"
        )
    from stagebox.monitor.loop import run_monitor

    keys = sys.stdin.fileno() if sys.stdin.isatty() else None
    run_monitor(remote.socket_path(args), sys.stdout, keys, colour=colour, ascii=ascii)
    return 0
