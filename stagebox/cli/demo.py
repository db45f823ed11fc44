"""`stagebox demo`: the whole stage simulated; takes written; each punch's error printed."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from stagebox.cli import CLIError
from stagebox.cli.argtypes import whole


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run a simulated stage: three passes of each example cue")
    p.add_argument("--out", metavar="DIR", help="takes folder (default: a new temporary one)")
    p.add_argument("--cues", metavar="CUES", help="cue sheet (default: the example sheet)")
    p.add_argument("--passes", type=whole, default=3, help="passes of the loop per cue")
    p.add_argument("--realtime", action="store_true", help="run at real speed, not flat out")
    p.add_argument(
        "--display",
        choices=("window", "dummy"),
        help="show the streamers (window: on a desktop; use with --realtime)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from stagebox.cues import CueSheetError
    from stagebox.demo import EXAMPLE_CUES, run_demo
    from stagebox.logsetup import setup_logging

    if not 1 <= args.passes <= 20:
        raise CLIError(f"--passes {args.passes} is outside 1..20")
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="stagebox-demo-"))
    setup_logging("warning")
    print(f"stagebox demo: simulated stage, takes in {out}", file=sys.stderr)
    t0 = time.perf_counter()
    try:
        result = run_demo(
            out,
            cue_sheet=Path(args.cues) if args.cues else EXAMPLE_CUES,
            passes=args.passes,
            realtime=args.realtime,
            display=args.display,
        )
    except (CueSheetError, OSError) as exc:
        raise CLIError(str(exc)) from None
    elapsed = time.perf_counter() - t0
    print(f"{'take file':<18} {'cue':>5} {'take':>4} {'length':>8}  punch-in  punch-out")
    exact = True
    for t in result.takes:
        errors = (t["in_error"], t["out_error"])
        if t.get("kind") == "roomtone":  # no punch to measure: its length against the asked
            exact = exact and t["out_error"] == 0
            print(
                f"{t['file']:<18} {'room tone':>10} {t['frames'] / 48000:7.2f}s"
                f"  length {_err(t['out_error'])} samples against the seconds asked"
                + (f"  {t['note']}" if t["note"] else "")
            )
            continue
        exact = exact and errors == (0, 0)
        print(
            f"{t['file']:<18} {t['cue']:>5} {t['take']:>4} {t['frames'] / 48000:7.2f}s"
            f"  {_err(t['in_error']):>8}  {_err(t['out_error']):>9}"
            + (f"  sync: {t['sync']}" if t.get("sync") else "")
            + (f"  {t['note']}" if t["note"] else "")
        )
    print(
        f"{len(result.takes)} takes from {result.seconds:.0f} s of simulated stage in "
        f"{elapsed:.1f} s; punch errors are in samples against the simulation's truth: "
        + ("all exact." if exact else "NOT all exact.")
    )
    if result.phones:
        print(phones_line(result.phones))
    r = result.review
    if r is not None:  # the review pass: the take heard back against the LTC, per pass
        on_time = all(lag == 0 for lag in r.lags) and all(r.exact)
        print(
            f"review: cue {r.cue} take {r.take} ({r.file}) played back on {len(r.lags)} passes "
            f"of the loop, lag {', '.join(f'{lag:+d}' for lag in r.lags)} samples, "
            + ("every sample the take's own." if on_time else "NOT on the sample.")
        )
        exact = exact and on_time
    return 0 if exact and result.takes else 1


def phones_line(state: dict) -> str:
    """The actor's headphone mix over the session: each source's highest peak (dBFS)."""
    peaks = state.get("max_dbfs") or {}
    heard = [
        f"{name} {value:.1f}"
        for name, value in peaks.items()
        if value is not None and name != "phones"
    ]
    mix = peaks.get("phones")
    return (
        f"actor's headphones ({state.get('mode')} mode): highest peaks "
        + (", ".join(heard) or "none")
        + f" dBFS; the mix {'silent' if mix is None else f'{mix:.1f} dBFS'}, "
        f"{state.get('clipped', 0)} samples clipped (stagebox phones; docs/phones.md)"
    )


def _err(value: int | None) -> str:
    return "-" if value is None else f"{value:+d}"
