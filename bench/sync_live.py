"""Benchmark: from a take's punch-out to its sync score on the stage, for a 10 s cue.

    .venv/bin/python bench/sync_live.py [--seconds 10] [--passes 3]

The real service in this process, at real speed, on a simulated stage feed: one cue of
`--seconds`, the DAW's guide track on a third capture channel (`sync.guide_channel`, kept as
`<take>.guide.wav`), the actor on time on pass 1 and three frames late on pass 2. For every
take it prints, from the moment the engine punched out (the stage event on the audio thread):

- scored: the verdict is the stage's sync line (the scorer's callback, `status`/`snapshot`);
- panel: the front panel (simulated, 10 Hz) first draws a snapshot carrying that line.

The punch-out itself comes a frame and the recorder's holdback after TC-out's sample (the
punch is decided when the frame after it has been decoded); that part is not counted here.
"""

from __future__ import annotations

import argparse
import grp
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from stagebox.config import config_from_dict
from stagebox.cues.cue import Cue
from stagebox.events import PUNCH_OUT
from stagebox.panel import layout
from stagebox.service import StageService
from stagebox.sim.stagefeed import StageFeed
from stagebox.timecode import RATE_25, Timecode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the cue (s)")
    ap.add_argument("--passes", type=int, default=3, help="passes of the loop")
    args = ap.parse_args()

    tc_in = Timecode.parse("01:00:10:00", RATE_25)
    cue = Cue("101", tc_in, tc_in + round(args.seconds * 25), "JOHN", "Mary? Are you in there?")
    late = tuple(0.12 if p == 1 else 0.0 for p in range(args.passes))
    feed = StageFeed(
        [cue],
        passes=args.passes,
        preroll=2.0,
        postroll=1.0,
        lead_in=0.5,
        tail=2.0,
        channels=3,
        guide_channel=2,
        same_line=True,
        late=late,
    )
    root = Path(tempfile.mkdtemp(prefix="stagebox-bench-sync-"))
    sheet = root / "reel1.csv"
    sheet.write_text(
        f"# rate: 25\nCue,Character,TC In,TC Out,Dialogue\n101,JOHN,{cue.tc_in},{cue.tc_out},"
        "Mary? Are you in there?\n"
    )
    cfg = config_from_dict(
        {},
        overrides={
            "audio.backend": "sim",
            "audio.sim_realtime": True,
            "audio.capture_channels": 3,
            "audio.ltc_channel": 2,
            "audio.mic_channels": [1],
            "stage.mode": "record",
            "stage.cue_sheet": str(sheet),
            "takes.folder": str(root / "takes"),
            "takes.disk_reserve_mb": 1,
            "lights.backend": "sim",
            "buttons.enabled": False,
            "display.enabled": False,
            "panel.enabled": True,
            "panel.refresh_hz": 10,
            "control.socket": str(root / "control.sock"),
            "control.socket_group": grp.getgrgid(os.getgid()).gr_name,
            "sync.guide_channel": 3,
        },
    )
    punched: dict[int, float] = {}  # take -> monotonic s of its punch-out
    drawn: dict[int, float] = {}  # take -> monotonic s the panel first drew its line
    render = layout.render

    def panel_render(snapshot, now=None):
        line = snapshot.sync
        if line.startswith("T"):
            take = int(line[1:].split()[0])
            drawn.setdefault(take, time.monotonic())
        return render(snapshot, now)

    layout.render = panel_render  # the panel thread calls layout.render for each refresh
    service = StageService(cfg, feed=feed, stop_at_end=False)

    def on_event(event) -> None:
        if event.event == PUNCH_OUT:
            punched[event.data["take"]] = time.monotonic()

    service.add_listener(on_event)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(service.run()))
    thread.start()
    deadline = time.monotonic() + feed.length / feed.sample_rate + 30
    while len(drawn) < args.passes and time.monotonic() < deadline:
        time.sleep(0.05)
    service.stop()
    thread.join(30)
    layout.render = render
    scored = service.sync_latency or []
    print(f"{args.seconds:g} s cue, {args.passes} passes, guide channel kept beside each take")
    print("take  scored (s after punch-out)  on the panel (s after punch-out)  verdict")
    from stagebox.takes.log import TakeLog

    records = {r.take: r for r in TakeLog(root / "takes").takes()}
    for take in sorted(punched):
        s = scored[take - 1] if take - 1 < len(scored) else float("nan")
        p = drawn.get(take, float("nan")) - punched[take]
        print(f"T{take:<4} {s:26.3f}  {p:32.3f}  {records[take].sync if take in records else '?'}")
    if scored:
        shown = [drawn[t] - punched[t] for t in punched if t in drawn]
        print(
            f"median: scored {statistics.median(scored):.3f} s, on the panel "
            f"{statistics.median(shown):.3f} s after the punch-out; most "
            f"{max(scored):.3f} s / {max(shown):.3f} s"
        )
    return 0 if result == [0] and len(drawn) == args.passes else 1


if __name__ == "__main__":
    raise SystemExit(main())
