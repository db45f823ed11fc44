"""Benchmark: how long `stagebox status` takes end to end, beside `python -c pass`.

    .venv/bin/python bench/cli_latency.py [--runs 40] [--command status]

Serves a stand-in stage (tests/control_fake.py: the real ControlServer on a temp socket, a
dispatcher answering from the example cue sheet and a take log) in this process, then runs,
interleaved, `python -c pass` (the interpreter's own start) and the `stagebox` console
script next to this Python (`stagebox status --socket ...`, as an engineer types it over SSH)
as whole processes, wall-clock time of each. Prints the median, the 10th and 90th percentile
of each, the median CPU time (user + system: steadier than wall-clock time on a busy machine)
and the median of the per-round differences (what stagebox adds to Python's start).
Every run's output is checked: a command that failed is not a fast command.

`--compare DIR` adds `python -m stagebox ...` run from DIR (another checkout's root, e.g. an
earlier commit from `git archive`) and from this checkout, so two versions are timed in the
same rounds.
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
sys.path.insert(0, str(ROOT))

from stagebox.control.server import ControlServer  # noqa: E402
from tests.control_fake import FakeStage  # noqa: E402

COMMANDS = {
    "status": (["status"], "timecode"),
    "cue": (["cue", "101"], "cue 101"),
    "mode": (["mode", "rehearse"], "mode: rehearse"),
    "takes": (["takes"], "CUE"),
}


def stagebox_command() -> list[str]:
    """The console script installed beside this Python, else `python -m stagebox`."""
    script = Path(sys.executable).with_name("stagebox")
    if script.exists():
        return [str(script)]
    found = shutil.which("stagebox")
    return [found] if found else [sys.executable, "-m", "stagebox"]


def timed(argv: list[str], expect: str | None, cwd: Path | None = None) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one whole process; its output checked."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0 or (expect is not None and expect not in r.stdout):
        raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return elapsed, cpu


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="rounds (each runs every command)")
    parser.add_argument(
        "--command",
        action="append",
        choices=sorted(COMMANDS),
        help="stagebox commands to time (default: status)",
    )
    parser.add_argument(
        "--compare", metavar="DIR", type=Path, help="also time `python -m stagebox` from DIR"
    )
    args = parser.parse_args()
    names = args.command or ["status"]
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeStage(Path(tmp) / "takes")
        sock = os.path.join(tmp, "control.sock")
        server = ControlServer(sock, fake)
        server.start()
        try:
            runs: dict[str, list[tuple[float, float]]] = {"python -c pass": []}
            plans = {"python -c pass": ([sys.executable, "-c", "pass"], None, None)}
            for name in names:
                argv, expect = COMMANDS[name]
                label = f"stagebox {' '.join(argv)}"
                plans[label] = ([*stagebox_command(), *argv, "--socket", sock], expect, None)
                if args.compare:
                    module = [sys.executable, "-m", "stagebox", *argv, "--socket", sock]
                    plans[f"-m {label} (here)"] = (module, expect, ROOT)
                    plans[f"-m {label} ({args.compare.name})"] = (module, expect, args.compare)
            runs.update({label: [] for label in plans})
            for argv, expect, cwd in plans.values():
                timed(argv, expect, cwd)  # warm the page cache once
            for _ in range(args.runs):
                for label, (argv, expect, cwd) in plans.items():
                    runs[label].append(timed(argv, expect, cwd))
        finally:
            server.stop()
            fake.log.close()
    print(
        f"{platform.machine()}, Python {platform.python_version()}, {args.runs} rounds, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    base = runs["python -c pass"]
    for label, values in runs.items():
        wall = [v[0] for v in values]
        line = (
            f"  {label:<36} median {1000 * statistics.median(wall):6.1f} ms  "
            f"p10 {1000 * pct(wall, 0.1):6.1f}  p90 {1000 * pct(wall, 0.9):6.1f}  "
            f"CPU {1000 * statistics.median(v[1] for v in values):5.1f} ms"
        )
        if values is not base:
            extra = statistics.median(v[0] - b[0] for v, b in zip(values, base, strict=True))
            line += f"  (+{1000 * extra:.1f} ms over python -c pass, median of rounds)"
        print(line)


if __name__ == "__main__":
    main()
