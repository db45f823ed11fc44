"""Benchmark: `stagebox ltc decode FILE` as a whole process against libltc's C decoder.

    .venv/bin/python bench/ltc_decode_cli.py [--minutes 30] [--runs 5] [--file LTC.wav]

The file: `stagebox ltc generate` (25 fps, 48 kHz, 16-bit mono, from 01:00:00:00), made once
in a temporary folder unless `--file` names one (made there if missing). The C side:
bench/ltcdecode.c, built here against the system's libltc (Debian libltc-dev; without it the
bench says so and times only ours), which reads the WAV, decodes it with libltc and prints
each frame as our command does. Each round runs, one after the other, `python -c pass`
(the interpreter's start), the C program and `stagebox ltc decode` (the console script beside
this Python), each writing its lines to a file; wall-clock and CPU (user + system) time of
each whole process. Prints the median of each and the median of the per-round ratios ours / C.

`--compare DIR` adds `python -m stagebox ltc decode` run from DIR (another checkout's root,
e.g. an earlier commit from `git archive`), timed in the same rounds.

Python runs as it does once installed: with its bytecode cache (`__pycache__`, written by
the first, untimed round), even where the environment says PYTHONDONTWRITEBYTECODE (as this
development machine's does; compiling stagebox's two dozen modules from source in every run
would add 20 to 50 ms that no installed stage pays). `--no-bytecode-cache` keeps the
environment as it is.

Time is CPU time (user + system) of each whole process: on a shared machine wall-clock time
is mostly waiting for a core.

This is the figure for the command as a user runs it. bench/ltc_decode.py compares the two
decoders inside one Python process (libltc through ctypes): its per-block Python calls slow
libltc down, so it flatters ours; it is the in-process figure only.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stagebox() -> list[str]:
    script = Path(sys.executable).with_name("stagebox")
    return [str(script)] if script.exists() else [sys.executable, "-m", "stagebox"]


def build_c(folder: Path) -> Path | None:
    """bench/ltcdecode.c built with libltc, or None (and why, printed) when it cannot be."""
    exe = folder / "ltcdecode"
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        print("no C compiler (cc): timing ours only")
        return None
    r = subprocess.run(
        [cc, "-O2", "-o", str(exe), str(ROOT / "bench" / "ltcdecode.c"), "-lltc"],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        print("cannot build bench/ltcdecode.c (is libltc-dev installed?): timing ours only")
        print("  " + r.stderr.strip().replace("\n", "\n  "))
        return None
    return exe


def timed(
    argv: list[str], out: Path, cwd: Path | None = None, env: dict | None = None
) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process, its stdout to `out`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with open(out, "wb") as f:
        r = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE, cwd=cwd, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {r.stderr.decode().strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the LTC file")
    parser.add_argument("--runs", type=int, default=5, help="rounds")
    parser.add_argument("--file", type=Path, help="LTC WAV to use (generated if missing)")
    parser.add_argument("--compare", metavar="DIR", type=Path, help="also time DIR's stagebox")
    parser.add_argument(
        "--no-bytecode-cache", action="store_true", help="keep PYTHONDONTWRITEBYTECODE if set"
    )
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.no_bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wav = args.file or folder / "ltc.wav"
        if not wav.exists():
            print(f"generating {args.minutes:g} min of 25 fps LTC in {wav} ...")
            gen = [*stagebox(), "ltc", "generate", str(wav), "--start", "01:00:00:00"]
            gen += ["--fps", "25", "--seconds", str(args.minutes * 60)]
            subprocess.run(gen, check=True, capture_output=True)
        c = build_c(folder)
        wav = wav.resolve()
        plans = {"python -c pass": ([sys.executable, "-c", "pass"], None)}
        if c is not None:
            plans["libltc C"] = ([str(c), str(wav)], None)
        plans["stagebox ltc decode"] = ([*stagebox(), "ltc", "decode", str(wav)], None)
        if args.compare:
            module = [sys.executable, "-m", "stagebox", "ltc", "decode", str(wav)]
            plans[f"({args.compare.name})"] = (module, args.compare.resolve())
        outs = {label: folder / f"out{i}.txt" for i, label in enumerate(plans)}
        for label, (argv, cwd) in plans.items():  # once: the page cache, the bytecode cache
            timed(argv, outs[label], cwd, env)
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in plans}
        for _ in range(args.runs):
            for label, (argv, cwd) in plans.items():
                runs[label].append(timed(argv, outs[label], cwd, env))
        ours = outs["stagebox ltc decode"].read_text().splitlines()
        theirs = outs["libltc C"].read_text().splitlines() if c is not None else []
        same_old = args.compare and outs[f"({args.compare.name})"].read_text().splitlines() == ours
    size = wav.stat().st_size if wav.exists() else 0
    print(
        f"{platform.machine()}, Python {platform.python_version()}, {args.runs} rounds, "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"{len(ours)} frames ({size / 1e6:.0f} MB); bytecode cache "
        f"{'off' if 'PYTHONDONTWRITEBYTECODE' in env else 'on'}"
    )
    for label, values in runs.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"  {label:<20} median wall {wall:6.3f} s  CPU {cpu:6.3f} s")
    if args.compare:
        print(f"  {args.compare.name}'s lines the same as ours: {'yes' if same_old else 'NO'}")
    if c is not None:
        same = [x.split()[:2] for x in theirs] == [x.split()[:2] for x in ours[: len(theirs)]]
        for label in (label for label in runs if label.startswith(("stagebox", "("))):
            who = "ours" if label.startswith("stagebox") else label
            for i, kind in ((0, "wall"), (1, "CPU")):
                ratios = [o[i] / t[i] for o, t in zip(runs[label], runs["libltc C"], strict=True)]
                text = ", ".join(f"{r:.2f}" for r in ratios)
                print(f"  ratio {who} / C, {kind}: median {statistics.median(ratios):.2f} ({text})")
        print(
            f"  frames: ours {len(ours)}, C {len(theirs)}, same user bits and labels: "
            f"{'yes' if same else 'NO'}"
        )


if __name__ == "__main__":
    main()
