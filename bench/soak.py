"""Soak: one simulated hour of a stage through the real service, its resident memory sampled.

    .venv/bin/python bench/soak.py                 # one hour of stage audio
    .venv/bin/python bench/soak.py --minutes 10    # a quick look

Writes a stage feed (a DAW looping two cues with pre-roll, an actor speaking the lines) one
hour long as a WAV, starts `stagebox run` on it in record mode with the sim backend running as
fast as the CPU allows (`audio.sim_realtime = false`: the same audio loop, engine, take writer
and take log as on a stage, without waiting for the wall clock), and, while a client polls
`status` and `takes` as `stagebox monitor` and an engineer would, samples the service's
resident memory (VmRSS, and RssAnon: what the process itself allocated, without file pages)
against the stage's position in the feed. Prints the samples every simulated 5 minutes and the
growth after warm-up (the first 5 simulated minutes); the target is under 10 MB.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from servicerun import RunningService, StageDir, cue, write_sheet  # noqa: E402

from stagebox.control.protocol import ControlError  # noqa: E402
from stagebox.sim.stagefeed import StageFeed  # noqa: E402

WARM_UP = 300.0  # simulated seconds before the baseline is taken
PRINT_EVERY = 60.0  # simulated seconds between the samples printed


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of `pid` in kB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon"):
                fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["RssAnon"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated stage time")
    parser.add_argument("--folder", default=None, help="where to put the feed and takes")
    args = parser.parse_args()

    cues = [cue("101", "01:00:10:00", "01:00:13:00"), cue("102", "01:00:20:00", "01:00:22:12")]
    shape = {"preroll": 4.0, "postroll": 2.0, "lead_in": 1.0}
    two = StageFeed(cues, passes=2, **shape)  # a pass's length, less the lead-in and tail
    one = StageFeed(cues, passes=1, **shape)
    per_pass = (two.length - one.length) / one.sample_rate
    passes = max(1, math.ceil((args.minutes * 60 - one.length / one.sample_rate) / per_pass) + 1)
    with tempfile.TemporaryDirectory(prefix="stagebox-soak-", dir=args.folder) as tmp:
        stage = StageDir(Path(tmp))
        t0 = time.monotonic()
        feed = stage.write_feed(cues, passes=passes, **shape)
        seconds = feed.length / feed.sample_rate
        size = stage.feed_path.stat().st_size
        print(
            f"feed: {seconds / 60:.1f} min, {passes} passes, {size / 1e6:.0f} MB "
            f"(written in {time.monotonic() - t0:.0f} s)"
        )
        sheet = write_sheet(stage.root / "reel1.csv", cues)
        stage.write_config(realtime=False, stage__cue_sheet=str(sheet), stage__mode="record")
        samples: list[tuple[float, int, int]] = []  # (stage seconds, VmRSS kB, RssAnon kB)
        with RunningService(stage) as svc:
            started = time.monotonic()
            svc.wait_ready(30)
            while True:
                try:
                    status = svc.call("status")
                    svc.call("takes")
                except ControlError:
                    break
                position = (status.get("sample") or 0) / feed.sample_rate
                rss, anon = memory_kb(svc.proc.pid)
                samples.append((position, rss, anon))
                if not status.get("audio") and position > 0:
                    break
                time.sleep(0.5)
            wall = time.monotonic() - started
            takes = len(svc.call("takes"))
            log = svc.log
            svc.stop(60)
    print(f"ran {samples[-1][0] / 60:.1f} simulated minutes in {wall:.0f} s wall, {takes} takes")
    print("stage min   VmRSS MB  RssAnon MB")
    next_print = 0.0
    for position, rss, anon in samples:
        if position >= next_print:
            print(f"{position / 60:9.1f}  {rss / 1024:8.1f}  {anon / 1024:10.1f}")
            next_print += PRINT_EVERY
    after = [s for s in samples if s[0] >= WARM_UP]
    if not after:
        print("too short for a warm-up baseline")
        return
    base = after[0]
    growth_rss = max(s[1] for s in after) - base[1]
    growth_anon = max(s[2] for s in after) - base[2]
    print(
        f"growth after {WARM_UP / 60:.0f} min warm-up: VmRSS {growth_rss / 1024:.1f} MB, "
        f"RssAnon {growth_anon / 1024:.1f} MB (target: under 10 MB)"
    )
    print(f"tracebacks in the service log: {log.count('Traceback')}")


if __name__ == "__main__":
    main()
