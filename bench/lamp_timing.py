"""How close to its planned moment does a lamp switch? (`python bench/lamp_timing.py`)

Runs the real `LampDriver` thread on the simulated backend with the real monotonic clock:
plans events 20 ms apart against a sample->time fit and reports how late each write came
after `fit.to_monotonic(sample) - relay_lag_trim` (it is never early). On a Pi the GPIO write
itself adds a few microseconds; the relay adds what `relay_lag_trim` is set to.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stagebox.gpio import sim
from stagebox.gpio.lamps import LampDriver, Lamps, LightEvent
from stagebox.gpio.pinmap import load_pinmap
from stagebox.timemap import TimeFit

RATE = 48000  # Hz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=250)
    parser.add_argument("--spacing", type=float, default=0.02, help="seconds between events")
    args = parser.parse_args()
    backend = sim.Backend()
    driver = LampDriver(Lamps(backend, load_pinmap()), relay_lag_trim=0.008).start()
    fit = TimeFit(0, time.monotonic() + 0.1, float(RATE))
    driver.update_fit(fit)
    step = int(args.spacing * RATE)
    events = [LightEvent("cue_light", i % 2 == 0, i * step) for i in range(args.events)]
    driver.plan(events)
    end = fit.to_monotonic(events[-1].sample) + 1
    while driver.switched < len(events) and time.monotonic() < end:
        time.sleep(0.05)
    driver.stop()
    history = backend.lamp_history("cue_light")[1:-1]
    late = [(t - (fit.to_monotonic(s) - 0.008)) * 1e6 for s, t, _ in history]  # microseconds
    worst = max(range(len(late)), key=late.__getitem__)
    late.sort()
    print(f"{len(late)} switches, lateness after the planned moment (microseconds):")
    print(
        f"  min {late[0]:.0f}  median {statistics.median(late):.0f}  "
        f"p99 {late[int(len(late) * 0.99) - 1]:.0f}  max {late[-1]:.0f} (event {worst})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
