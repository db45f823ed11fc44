"""`stagebox doctor --bench`: this Pi's own numbers for what docs/benchmarks.md states.

Four measurements, the same code the benchmark scripts in bench/ run (they import it from
here), so the numbers a user sees on the Pi are comparable with the documented ones:

- engine share of a core: a simulated stage feed (2 channels at 48 kHz, one cue looped in
  record mode) through the whole engine period by period, CPU time over audio time;
- LTC decode cost: the decoder alone on the LTC channel, streaming 256-sample blocks;
- streamer frame time: the display process's render step at the display's size (the
  connected monitor's mode, or display.size), on an offscreen surface of that size: the CPU
  cost of a frame, which must stay well inside one refresh (the flip itself is measured by
  the doctor's display check);
- sync score time: `score_take` on a 10 s cue (the simulated actor's line against itself one
  frame late, with room noise), CPU seconds: it must be done while the DAW relocates.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

SR = 48000
ENGINE_TARGET_PCT = 2.0  # % of one core (DESIGN.md section 5)
FRAME_TARGET_MS = 3.0  # ms per streamer frame at 1920x1080 on the development machine
SYNC_TARGET_S = 1.0  # s of one core to score a 10 s cue on the development machine


class DiscardSink:
    """Takes go nowhere: the engine's cost without the writer thread's."""

    def open_take(self, take) -> None:
        pass

    def write(self, block) -> None:
        pass

    def close_take(self, note: str = "") -> None:
        pass


def bench_cue():
    from stagebox.cues.cue import Cue
    from stagebox.timecode import RATE_25, Timecode

    return Cue(
        "101",
        Timecode.parse("01:00:10:00", RATE_25),
        Timecode.parse("01:00:14:00", RATE_25),
        character="Detective Hale",
        dialogue="Mr Carter? Sorry to call so late. It's about your brother.",
    )


def stage_feed(passes: int = 6):
    """(feed, audio) of one cue looped `passes` times with pre-roll, rendered in memory."""
    from stagebox.sim.stagefeed import StageFeed

    feed = StageFeed([bench_cue()], sample_rate=SR, passes=passes, preroll=4.0, postroll=2.0)
    return feed, feed.render_all()


def engine_cpu_pct(feed, audio, period: int = 256) -> float:
    """CPU time of the engine over the feed's duration, in % of one core."""
    from stagebox.engine import Engine, EngineSettings
    from stagebox.phones.matrix import PhonesSettings

    # The headphone mix as a stage runs it by default: the beeps and the actor's sidetone.
    phones = PhonesSettings(sidetone_channels=(feed.mic_channel,))
    engine = Engine(
        EngineSettings(SR, feed.ltc_channel, (feed.mic_channel,), phones=phones),
        sink=DiscardSink(),
        cues=[bench_cue()],
        mode="record",
    )
    t0 = time.process_time()
    for pos in range(0, len(audio), period):
        engine.process(audio[pos : pos + period], pos)
    return 100 * (time.process_time() - t0) / (len(audio) / SR)


def decoder_cpu_pct(ltc, period: int = 256) -> float:
    """CPU time of the LTC decoder alone on `ltc` in `period` blocks, in % of one core."""
    from stagebox.ltc.decoder import LTCDecoder

    decoder = LTCDecoder(SR)
    t0 = time.process_time()
    for pos in range(0, len(ltc), period):
        decoder.decode(ltc[pos : pos + period], pos)
    return 100 * (time.process_time() - t0) / (len(ltc) / SR)


def render_times(style, surface, frames: int, full: bool = False) -> list[float]:
    """ms per render() of `frames` frames from 3 s before TC-in (the first, which builds the
    caches, not counted), the timecode advancing one 60 Hz refresh per frame."""
    from stagebox.display.renderer import StreamerRenderer
    from stagebox.snapshot import ClockFit, StageSnapshot
    from stagebox.timecode import RATE_25

    cue = bench_cue()
    renderer = StreamerRenderer(surface.get_size(), style)
    start = cue.tc_in.frame_count - 75.0
    times = []
    for i in range(frames + 1):
        t = start + i * 25 / 60
        snap = StageSnapshot(
            sample=0,
            sample_rate=SR,
            mode="record",
            lock="locked",
            clock=ClockFit(0.0, 0, 1920.0, RATE_25),
            cue=cue,
            take=7,
            recording=t >= cue.tc_in.frame_count,
        )
        t0 = time.perf_counter()
        renderer.render(surface, t, cue, snap, full=full)
        if i:
            times.append(1000.0 * (time.perf_counter() - t0))
    return times


def sync_cpu_seconds(seconds: float = 10.0) -> float:
    """CPU seconds to score a `seconds` cue: the synthetic actor's line as the guide, the
    take the same line 40 ms late under room noise."""
    import numpy as np

    from stagebox.sim.voice import synth_line
    from stagebox.sync import score_take
    from stagebox.timecode import RATE_25

    rng = np.random.default_rng(15)
    n = int(seconds * SR)
    guide = synth_line(n, SR, rng)
    take = np.zeros(n, dtype=np.float32)
    late = int(0.040 * SR)
    take[late:] = guide[: n - late]
    take += (rng.normal(size=n) * 10 ** (-60 / 20)).astype(np.float32)
    t0 = time.process_time()
    score_take(take, guide, SR, RATE_25)
    return time.process_time() - t0


def display_size(cfg, sys_drm: str = "/sys/class/drm") -> tuple[int, int]:
    """The size frames are drawn at: display.size, else the connected monitor's mode."""
    if cfg.display.size:
        return cfg.display.size
    from pathlib import Path

    from stagebox.display.kmsdrm import connector_states

    for name, state in connector_states(Path(sys_drm)).items():
        if state == "connected":
            modes = (Path(sys_drm) / name / "modes").read_text().split()
            if modes:
                w, h = modes[0].split("x")
                return int(w), int(h.rstrip("ip"))
    return 1920, 1080


def measure(cfg, seconds_scale: float = 1.0) -> dict:
    """The four numbers (least of three runs each, as bench/ reports them)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from stagebox.display.renderer import import_pygame
    from stagebox.display.style import StreamerStyle

    feed, audio = stage_feed(passes=max(1, round(6 * seconds_scale)))
    engine = min(engine_cpu_pct(feed, audio) for _ in range(3))
    ltc = audio[:, feed.ltc_channel].copy()
    decoder = min(decoder_cpu_pct(ltc) for _ in range(3))
    pg = import_pygame()
    pg.display.init()
    pg.font.init()
    size = display_size(cfg)
    surface = pg.Surface(size)
    count = max(30, round(300 * seconds_scale))
    frames = sorted(render_times(StreamerStyle(), surface, count))
    full = sorted(render_times(StreamerStyle(), surface, count, full=True))
    pg.quit()
    sync = min(sync_cpu_seconds() for _ in range(3))
    return {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "feed_seconds": round(len(audio) / SR, 1),
        "engine_pct_of_core": round(engine, 2),
        "decoder_pct_of_core": round(decoder, 2),
        "frame_size": f"{size[0]}x{size[1]}",
        "frame_ms_median": round(statistics.median(frames), 3),
        "frame_ms_p99": round(frames[min(len(frames) - 1, int(0.99 * len(frames)))], 3),
        "full_frame_ms_median": round(statistics.median(full), 3),
        "sync_10s_cue_s": round(sync, 3),
    }


def run_bench(cfg, json_out: bool = False, seconds_scale: float = 1.0) -> int:
    numbers = measure(cfg, seconds_scale)
    if json_out:
        print(json.dumps(numbers))
        return 0
    print(f"{numbers['machine']}, Python {numbers['python']}; docs/benchmarks.md for comparison")
    print(
        f"engine:   {numbers['engine_pct_of_core']:.2f} % of one core "
        f"(2 channels at 48 kHz, {numbers['feed_seconds']} s feed; target under "
        f"{ENGINE_TARGET_PCT:g} %)"
    )
    print(f"decoder:  {numbers['decoder_pct_of_core']:.2f} % of one core (LTC alone)")
    print(
        f"streamer: {numbers['frame_ms_median']:.2f} ms per frame median, "
        f"{numbers['frame_ms_p99']:.2f} ms p99 at {numbers['frame_size']}; full redraw "
        f"{numbers['full_frame_ms_median']:.2f} ms median (a 60 Hz refresh is 16.7 ms; "
        f"target {FRAME_TARGET_MS:g} ms on the development machine)"
    )
    print(
        f"sync:     {numbers['sync_10s_cue_s']:.3f} s of one core to score a 10 s cue (target "
        f"under {SYNC_TARGET_S:g} s on the development machine; the DAW's relocate is the "
        "budget)"
    )
    return 0
