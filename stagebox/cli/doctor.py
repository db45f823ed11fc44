"""`stagebox doctor`: commission the stage on the Pi, every part checked in place.

Prints a table of PASS / WARN / FAIL (and SKIP for what an option left out), each failure
with its fix; `--json` for a machine. Exit status 0 when nothing failed, 1 otherwise, 2 for
bad options or a config the service would refuse. Best with the service stopped
(`sudo systemctl stop stagebox`); while it runs it holds the sound card, the GPIO lines and
the screen, so those are checked through it (its lock and levels, its lamp test) and what
needs the devices themselves (the loopback, the buttons, the flip interval) is skipped.
`--bench` measures this Pi's own numbers instead (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stagebox.cli import CLIError


def register(sub: argparse._SubParsersAction) -> None:
    from stagebox.doctor.runner import CHECKS

    p = sub.add_parser(
        "doctor",
        help="check every part of the stage on the Pi: PASS/WARN/FAIL with the fix",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("--config", metavar="FILE", help="config file (default: the service's)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--interactive",
        action="store_true",
        help="ask whether each lamp lit, and wait for each button to be pressed",
    )
    p.add_argument(
        "--loopback",
        type=int,
        metavar="N",
        help="measure the playback latency with a patch cable from the headphone out to input N",
    )
    p.add_argument(
        "--write-trim",
        action="store_true",
        help="with --loopback: write the measured audio.playback_latency_trim to the config",
    )
    p.add_argument(
        "--disk-mb", type=int, default=256, metavar="MB", help="MB written to test the takes disk"
    )
    p.add_argument(
        "--button-seconds", type=float, default=10.0, metavar="S", help="time to press a button"
    )
    names = ", ".join(CHECKS)
    p.add_argument("--only", metavar="CHECKS", help=f"comma-separated checks to run ({names})")
    p.add_argument("--skip", metavar="CHECKS", help="comma-separated checks to leave out")
    p.add_argument(
        "--bench",
        action="store_true",
        help="measure this Pi: engine share of a core, streamer frame time, LTC decode cost",
    )
    # A root folder holding /proc, /sys, /dev, /boot and /etc: for tests and for examining a
    # Pi's SD card mounted elsewhere.
    p.add_argument("--root", metavar="DIR", default="/", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _names(text: str | None, known) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in known:
            raise CLIError(f"unknown check {name!r} (checks: {', '.join(known)})")
    return names


def run(args: argparse.Namespace) -> int:
    from stagebox.config import ConfigError, load_config
    from stagebox.doctor.context import Context, running_service
    from stagebox.doctor.machine import Machine
    from stagebox.doctor.report import exit_status, render_table, to_json
    from stagebox.doctor.runner import CHECKS, run_checks

    only, skip = _names(args.only, CHECKS), _names(args.skip, CHECKS)
    if args.write_trim and args.loopback is None:
        raise CLIError("--write-trim needs --loopback N")
    if args.disk_mb < 1:
        raise CLIError(f"--disk-mb must be at least 1, not {args.disk_mb}")
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise CLIError("the config has problems: fix them first (stagebox config check)") from None
    if args.loopback is not None and not 1 <= args.loopback <= cfg.audio.capture_channels:
        raise CLIError(
            f"--loopback {args.loopback}: the capture device has inputs 1.."
            f"{cfg.audio.capture_channels}"
        )
    if args.bench:
        from stagebox.doctor.bench import run_bench

        return run_bench(cfg, json_out=args.json)
    service = running_service(cfg) if args.root == "/" else None
    if service is not None and not args.json:
        print(
            f"stagebox is running ({cfg.control.socket}): the sound card, lamps, buttons and "
            "screen are checked through it; stop it for the full checks",
            file=sys.stderr,
        )
    ctx = Context(
        cfg,
        service=service,
        machine=Machine(Path(args.root)),
        interactive=args.interactive,
        loopback=args.loopback,
        write_trim=args.write_trim,
        disk_test_mb=args.disk_mb,
        button_seconds=args.button_seconds,
    )
    show = None if args.json else (lambda r: print(f"{r.status:<6} {r.check}", file=sys.stderr))
    results = run_checks(ctx, only, skip, on_result=show)
    print(to_json(results) if args.json else render_table(results))
    return exit_status(results)
