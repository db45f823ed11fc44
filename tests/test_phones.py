"""The actor's headphone mix on the simulated stage: each source at its sample and its level.

The stage feed carries the LTC and the actor's mic (stagebox.sim.stagefeed); the tests add a
guide (channel 3) and the director's talkback mic (channel 4) with known signals, run the real
engine period by period, and check the phones output against what the matrix and the levels
say: -6 dB is 10 ** (-6 / 20) = 0.501 times the source, to float32 precision.
"""

from __future__ import annotations

import dataclasses
import math

import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st
from servicerun import sim_stage
from stagerun import cue

from stagebox.config import ConfigError, config_from_dict
from stagebox.doctor.bench import DiscardSink
from stagebox.engine import Engine, EngineSettings
from stagebox.phones.matrix import PhonesSettings
from stagebox.phones.mixer import PhoneMixer
from stagebox.sim.stagefeed import StageFeed
from stagebox.timecode import RATE_25

SR = 48000
PERIOD = 256
GUIDE, TALKBACK = 2, 3  # 0-based capture channels of the guide and the talkback mic
MINUS_6 = 0.501187  # 10 ** (-6 / 20)
CUE = cue("5", "01:00:05:00", "01:00:06:00", RATE_25)


def stage_audio(seconds_tone: float = 440.0) -> np.ndarray:
    """A stage feed (mic 1, LTC 2) with a guide tone on 3 and a talkback tone on 4."""
    feed = StageFeed([CUE], passes=1, preroll=4.0, postroll=0.5, channels=4)
    audio = feed.render_all()
    t = np.arange(len(audio)) / SR
    audio[:, GUIDE] = 0.5 * np.sin(2 * np.pi * seconds_tone * t)
    audio[:, TALKBACK] = 0.25 * np.sin(2 * np.pi * 1234.0 * t)
    return audio


def settings(**overrides) -> EngineSettings:
    """Engine settings from a config (the real from_config path): mic 1, LTC 2, guide 3,
    talkback 4, one headphone channel; beeps off unless asked for, so sources stand alone."""
    cfg = config_from_dict(
        {},
        overrides={
            "audio.backend": "sim",  # a 4-input interface, not the default HAT's 2
            "audio.capture_channels": 4,
            "audio.playback_channels": 1,
            "audio.headphone_channels": [1],
            "audio.guide_channel": GUIDE + 1,
            "phones.talkback_channel": TALKBACK + 1,
            "beeps.enabled": False,
            **overrides,
        },
    )
    return EngineSettings.from_config(cfg, sample_rate=SR)


def run(audio, s: EngineSettings, mode: str, between=None) -> tuple[np.ndarray, Engine]:
    """The engine over `audio` a period at a time; `between(engine, position)` runs before
    each period, as the service applies commands on period boundaries."""
    engine = Engine(s, sink=DiscardSink(), cues=[CUE], mode=mode)
    out = []
    for pos in range(0, len(audio), PERIOD):
        if between is not None:
            between(engine, pos)
        out.append(engine.process(audio[pos : pos + PERIOD], pos))
    return np.concatenate(out)[:, 0], engine


# -- guide and sidetone, per the default matrix --------------------------------------------------


def test_guide_is_heard_at_its_level_in_rehearse_and_not_in_record():
    audio = stage_audio()
    guide, mic = audio[:, GUIDE].astype(np.float64), audio[:, 0].astype(np.float64)
    phones, _ = run(audio, settings(), "rehearse")
    # The default matrix: guide at -6 dB and sidetone at -6 dB in rehearse.
    np.testing.assert_allclose(phones, MINUS_6 * guide + MINUS_6 * mic, atol=2e-7)
    # Measured as an engineer would: the guide's share of the phones, in dB.
    share = np.dot(phones - MINUS_6 * mic, guide) / np.dot(guide, guide)
    assert 20 * math.log10(share) == pytest.approx(-6.0, abs=0.001)

    phones, _ = run(audio, settings(), "record")
    # Record: the actor hears themselves, not the guide.
    np.testing.assert_allclose(phones, MINUS_6 * mic, atol=2e-7)
    spectrum = np.abs(np.fft.rfft(phones))
    at_440 = spectrum[round(440 * len(phones) / SR)]
    assert at_440 < 1e-3 * np.abs(np.fft.rfft(guide))[round(440 * len(phones) / SR)]


def test_levels_and_matrix_from_the_config():
    s = settings(
        **{
            "phones.guide_level_db": -12.0,
            "phones.guide_modes": ["record"],
            "phones.sidetone_modes": [],
        }
    )
    audio = stage_audio()
    phones, _ = run(audio, s, "record")
    np.testing.assert_allclose(phones, 10 ** (-12 / 20) * audio[:, GUIDE], atol=2e-7)
    phones, _ = run(audio, s, "rehearse")
    assert not phones.any()  # nothing on in rehearse: exact silence
    phones, _ = run(audio, s, "safe")
    assert not phones.any()


def test_sidetone_adds_no_latency_through_the_engine():
    """An impulse on the mic is in the phones block of the same period, on the same sample:
    the engine writes the captured block into the playback block of that period."""
    s = settings(**{"phones.sidetone_level_db": 0.0})
    audio = np.zeros((SR, 4), np.float32)
    clicks = [1000, 4 * PERIOD, 9 * PERIOD - 1, 20_000]  # mid-period, first and last sample
    audio[clicks, 0] = 0.8
    phones, _ = run(audio, s, "record")
    heard = np.flatnonzero(phones)
    assert heard.tolist() == clicks
    assert np.all(phones[heard] == np.float32(0.8))


def test_sidetone_latency_through_the_sim_audio_backend_is_the_backends_own():
    """Through the simulated sound card: the click is heard one capture period plus the
    playback queue later, and the queue is all the backend's: the box adds nothing."""
    from stagebox.audio.base import EndOfFeed
    from stagebox.sim.audio import SimBackend

    s = settings(**{"phones.sidetone_level_db": 0.0})
    audio = np.zeros((SR // 2, 4), np.float32)
    clicks = [777, 12 * PERIOD, 5000]
    audio[clicks, 0] = 0.5
    backend = SimBackend(samples=audio, sample_rate=SR, period=PERIOD, playback_channels=1)
    backend.open()
    engine = Engine(s, sink=DiscardSink(), cues=[CUE], mode="rehearse")
    try:
        while True:
            try:
                block = backend.read()
            except EndOfFeed:
                break
            backend.write(
                engine.process(
                    block.samples, block.position, block.lost, playback_at=backend.playback_position
                )
            )
        played = backend.playback()[:, 0]
        start = backend.playback_start
    finally:
        backend.close()
    heard = (np.flatnonzero(played) + start).tolist()
    delay = [h - c for h, c in zip(heard, clicks, strict=True)]
    assert delay == [PERIOD + backend.playback_latency] * len(clicks)
    assert delay[0] - backend.playback_latency <= PERIOD  # the box: at most one period


def test_two_sidetone_mics_are_summed():
    s = settings(
        **{
            "audio.mic_channels": [1, 3],
            "audio.guide_channel": 0,
            "phones.sidetone_level_db": 0.0,
        }
    )
    audio = stage_audio()
    phones, _ = run(audio, s, "rehearse")
    np.testing.assert_allclose(phones, audio[:, 0] + audio[:, GUIDE], atol=2e-7)


# -- talkback --------------------------------------------------------------------------------------


def test_talkback_held_dims_the_others_and_carries_the_talkback_mic():
    s = settings(**{"phones.talkback_dim_db": -20.0, "phones.ramp_ms": 5.0})
    audio = stage_audio()
    press, release = 40 * PERIOD, 120 * PERIOD  # capture samples: on period boundaries

    def button(engine, pos):
        if pos == press:
            engine.phones.talkback(True)
        elif pos == release:
            engine.phones.talkback(False)

    phones, engine = run(audio, s, "rehearse", between=button)
    guide, mic, talk = (audio[:, c].astype(np.float64) for c in (GUIDE, 0, TALKBACK))
    others = MINUS_6 * guide + MINUS_6 * mic
    ramp = round(0.005 * SR)  # samples
    before = slice(0, press)
    held = slice(press + ramp, release)
    after = slice(release + ramp, len(phones))
    np.testing.assert_allclose(phones[before], others[before], atol=2e-7)
    np.testing.assert_allclose(phones[held], 0.1 * others[held] + talk[held], atol=2e-7)
    np.testing.assert_allclose(phones[after], others[after], atol=2e-7)
    # During the press's ramp the gains move linearly: half way, the dim is half done.
    mid = press + ramp // 2
    expect = (1 - 0.9 * (ramp // 2 + 1) / ramp) * others[mid] + (ramp // 2 + 1) / ramp * talk[mid]
    assert phones[mid] == pytest.approx(expect, abs=1e-6)
    assert engine.phones.talkback_live is False


def test_talkback_is_live_in_every_mode_even_safe():
    s = settings()
    audio = stage_audio()
    phones, _ = run(audio, s, "safe", between=lambda e, pos: pos == 0 and e.phones.talkback(True))
    np.testing.assert_allclose(phones, audio[:, TALKBACK], atol=2e-7)


def test_talkback_without_a_channel_is_refused():
    mixer = PhoneMixer(SR, PhonesSettings())
    with pytest.raises(ValueError, match="phones.talkback_channel"):
        mixer.talkback(True)


# -- ramps and clipping ---------------------------------------------------------------------------


def test_a_level_change_ramps_from_the_next_period_with_no_step_above_the_ramp_step():
    """A DC guide makes the gain visible sample by sample: -6 dB to 0 dB ramps over 5 ms
    (240 samples) from the first sample of the period after the change."""
    s = settings(**{"phones.sidetone_modes": [], "phones.ramp_ms": 5.0})
    audio = np.zeros((40 * PERIOD, 4), np.float32)
    audio[:, GUIDE] = 0.5
    change = 10 * PERIOD
    phones, _ = run(
        audio,
        s,
        "rehearse",
        between=lambda e, pos: pos == change and e.phones.set_level("guide", 0),
    )
    low, high = 0.5 * MINUS_6, 0.5
    np.testing.assert_allclose(phones[:change], low, atol=1e-7)
    ramp = 240
    assert phones[change] > low  # the first sample of the period already moves
    np.testing.assert_allclose(phones[change + ramp :], high, atol=1e-7)
    steps = np.diff(phones.astype(np.float64))
    step = (high - low) / ramp
    assert steps.max() <= step + 1e-6 and steps.min() >= -1e-7
    assert np.count_nonzero(steps > step / 2) == ramp  # the whole change is the ramp


def test_a_mode_change_ramps_the_matrix_too():
    s = settings(**{"phones.sidetone_modes": []})
    audio = np.zeros((20 * PERIOD, 4), np.float32)
    audio[:, GUIDE] = 0.5
    flip = 8 * PERIOD
    phones, _ = run(
        audio, s, "rehearse", between=lambda e, pos: pos == flip and e.stage.set_mode("record", pos)
    )
    np.testing.assert_allclose(phones[:flip], 0.5 * MINUS_6, atol=1e-7)
    assert np.all(phones[flip + 240 :] == 0)
    assert np.abs(np.diff(phones[flip - 1 : flip + 241])).max() <= 0.5 * MINUS_6 / 240 + 1e-6


def test_a_hot_sidetone_is_clipped_at_full_scale_never_wrapped():
    s = settings(**{"phones.sidetone_level_db": 12.0})
    audio = np.zeros((4 * PERIOD, 4), np.float32)
    audio[:, 0] = np.linspace(-0.9, 0.9, len(audio))  # x 3.98: far past full scale
    phones, engine = run(audio, s, "record")
    assert phones.max() == 1.0 and phones.min() == -1.0
    expected = np.clip(audio[:, 0].astype(np.float64) * 10 ** (12 / 20), -1, 1)
    np.testing.assert_allclose(phones, expected, atol=1e-6)
    assert np.all(np.diff(phones) >= 0)  # monotonic: nothing wrapped to the other rail
    hot = np.count_nonzero(np.abs(audio[:, 0].astype(np.float64) * 10 ** (12 / 20)) > 1.0)
    assert abs(engine.phones.clipped - hot) <= 2 and hot > len(audio) // 2  # counted, to rounding
    assert engine.phones.meter_view()["meters_dbfs"]["phones"] == 0.0


# -- the review slot and the meters ---------------------------------------------------------------


def test_review_slot_takes_a_rendered_block_and_missing_sources_are_silence():
    s = settings(**{"phones.sidetone_modes": []})
    audio = stage_audio()
    engine = Engine(s, sink=DiscardSink(), cues=[CUE], mode="rehearse")
    calls = []

    def review(heard_at: int, n: int):
        calls.append((heard_at, n))
        return np.full(n, 0.125, np.float32)

    engine.phone_sources["review"] = review
    block = engine.process(audio[:PERIOD], 0)[:, 0]
    np.testing.assert_allclose(block, MINUS_6 * audio[:PERIOD, GUIDE], atol=2e-7)  # not in rehearse
    engine.phones.switch("review", "rehearse", True)
    engine.process(audio[PERIOD : 2 * PERIOD], PERIOD)  # ramping in
    block = engine.process(audio[2 * PERIOD : 3 * PERIOD], 2 * PERIOD)[:, 0]
    np.testing.assert_allclose(
        block, MINUS_6 * audio[2 * PERIOD : 3 * PERIOD, GUIDE] + 0.125, atol=2e-7
    )
    assert calls[-1] == (2 * PERIOD, PERIOD)
    mixer = PhoneMixer(SR, PhonesSettings())
    out = mixer.mix({"review": None}, "review", PERIOD)  # a review player with nothing to play
    assert not out.any()


def test_meters_read_each_source_and_the_output_in_dbfs():
    s = settings()
    audio = stage_audio()
    _, engine = run(audio, s, "rehearse")
    meters = engine.phones.state()["meters_dbfs"]
    assert meters["guide"] == pytest.approx(20 * math.log10(0.5 * MINUS_6), abs=0.1)
    assert meters["talkback"] is None and meters["review"] is None  # silent: None (-inf)
    assert meters["beeps"] is None  # beeps disabled here
    assert meters["sidetone"] is not None and meters["sidetone"] < meters["guide"]
    assert meters["phones"] >= meters["guide"]


def test_meters_hold_a_short_peak_and_let_it_fall_at_20_db_a_second():
    from stagebox.phones.meters import PeakMeters

    meters = PeakMeters(SR, ["x"])
    burst = np.zeros(PERIOD, np.float32)
    burst[10] = 0.5
    meters.mark(0, burst)
    meters.commit(PERIOD)
    for _ in range(SR // PERIOD // 2 - 1):  # half a second of silence after it
        meters.mark(0, np.zeros(PERIOD, np.float32))
        meters.commit(PERIOD)
    seconds = (SR // PERIOD // 2 - 1) * PERIOD / SR
    assert meters.dbfs()["x"] == pytest.approx(20 * math.log10(0.5) - 20 * seconds, abs=0.1)


# -- the beeps still land on their samples ---------------------------------------------------------


def test_beeps_pass_through_the_mix_sample_exact_with_the_other_sources():
    """With the guide and the sidetone on, the phones are the beeps (as the beep player renders
    them alone) plus the other sources at their levels: the mix moves no beep by a sample."""
    from stagebox.beeps import Beep, BeepPlayer

    s = settings(**{"beeps.enabled": True})
    audio = stage_audio()
    phones, engine = run(audio, s, "rehearse")
    beeps = BeepPlayer(SR, s.stage.beeps)
    events = [e for e in _events(audio, s) if e.event == "beep"]
    assert len(events) == 3
    for e in events:
        beeps.plan(Beep(e.n, e.sample, e.length))
    alone = beeps.render(0, len(audio))
    rest = MINUS_6 * audio[:, GUIDE].astype(np.float64) + MINUS_6 * audio[:, 0]
    np.testing.assert_allclose(phones, alone + rest, atol=3e-7)


def _events(audio, s):
    events = []
    engine = Engine(s, sink=DiscardSink(), cues=[CUE], mode="rehearse", listeners=[events.append])
    for pos in range(0, len(audio), PERIOD):
        engine.process(audio[pos : pos + PERIOD], pos)
    return events


# -- the config ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key", "reason"),
    [
        ({"phones.talkback_channel": 9}, "phones.talkback_channel", "channel 9 does not exist"),
        ({"phones.talkback_channel": 2}, "phones.talkback_channel", "is the LTC input"),
        ({"phones.talkback_channel": 1}, "phones.talkback_channel", "the actor's mic"),
        ({"phones.sidetone_channels": [7]}, "phones.sidetone_channels", "channel 7 does not exist"),
        ({"phones.sidetone_channels": [2]}, "phones.sidetone_channels", "LTC input"),
        ({"phones.guide_modes": ["rehearsal"]}, "phones.guide_modes", '"rehearsal" is not one of'),
        ({"phones.guide_modes": "rehearse"}, "phones.guide_modes", 'write ["rehearse"]'),
        ({"phones.guide_level_db": 20}, "phones.guide_level_db", "above the maximum 12"),
        ({"phones.talkback_dim_db": 3}, "phones.talkback_dim_db", "above the maximum 0"),
    ],
)
def test_config_problems_name_the_key(overrides, key, reason):
    with pytest.raises(ConfigError) as caught:
        config_from_dict(
            {}, overrides={"audio.backend": "sim", "audio.capture_channels": 3, **overrides}
        )
    text = str(caught.value)
    assert key in text and reason in text, text


def test_review_is_accepted_as_a_mode_in_the_matrix():
    cfg = config_from_dict({}, overrides={"phones.guide_modes": ["review", "rehearse"]})
    assert cfg.phones.guide_modes == ("rehearse", "review")
    s = PhonesSettings.from_config(cfg)
    assert s.on("guide", "review") and not s.on("guide", "record")
    assert s.guide_channel is None  # audio.guide_channel = 0: not wired
    assert s.sidetone_channels == (0,)  # the mics of [audio] (0-based here)


def test_a_channel_the_device_lacks_names_the_key():
    s = settings()
    with pytest.raises(ValueError, match="phones.talkback_channel: channel 4 does not exist"):
        s.phones.check_channels(3)


# -- live, through the running service's control socket -------------------------------------------


class GuideFeed:
    """A stage feed with a DC guide on its third channel (the gain shows sample by sample)."""

    def __init__(self, feed: StageFeed, level: float) -> None:
        self.feed, self.level = feed, level
        self.sample_rate, self.length, self.channels = feed.sample_rate, feed.length, 3

    @property
    def position(self) -> int:
        return self.feed.position

    def read(self, n: int) -> np.ndarray:
        block = self.feed.read(n)
        out = np.zeros((len(block), 3), np.float32)
        out[:, :2] = block
        out[:, 2] = self.level
        return out


def test_a_level_set_over_the_control_socket_ramps_in_on_the_next_period(tmp_path):
    import threading

    from servicerun import wait_for

    from stagebox.control.client import ControlClient
    from stagebox.service import StageService

    feed = GuideFeed(StageFeed([CUE], passes=1, preroll=1.0, postroll=0.5, tail=2.0), 0.5)
    cfg = config_from_dict(
        {},
        overrides={
            "audio.backend": "sim",
            "audio.sim_realtime": True,  # paced: the change lands mid-feed
            "audio.capture_channels": 3,
            "audio.playback_channels": 1,
            "audio.headphone_channels": [1],
            "audio.guide_channel": 3,
            "phones.sidetone_modes": [],
            "beeps.enabled": False,
            "stage.mode": "rehearse",
            **sim_stage(tmp_path),
        },
    )
    service = StageService(cfg, feed=feed, stop_at_end=True)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(service.run()), daemon=True)
    thread.start()
    try:
        wait_for(lambda: service.engine is not None and service.engine.position > SR, 30, "1 s")
        client = ControlClient(str(tmp_path / "control.sock"))
        before = service.engine.position
        state = client.call("phones.set", source="guide", level_db=0.0)
        after = service.engine.position
        assert state["levels_db"]["guide"] == 0.0
        assert client.call("phones")["levels_db"]["guide"] == 0.0
    finally:
        thread.join(60)
    assert result == [0]
    backend = service.backend
    played = backend.playback()[:, 0].astype(np.float64)
    start = backend.playback_start
    low, high = 0.5 * MINUS_6, 0.5
    moving = np.flatnonzero((played > low + 1e-6) & (played < high - 1e-6))
    assert len(moving) >= 239  # the ramp (5 ms, 240 samples; the last is the level itself)
    first = int(moving[0]) + start  # capture sample at which the ramp is heard
    # The ramp starts on the first sample of a period's block, and that block was captured
    # between the request and the reply: applied on the next period boundary.
    captured = first - PERIOD - backend.playback_latency
    assert captured % PERIOD == 0
    assert before <= captured <= after
    ramp = played[first - start - 1 : first - start + 241]
    assert np.all(np.diff(ramp) <= (high - low) / 240 + 1e-6)
    assert ramp[0] == pytest.approx(low, abs=1e-6) and ramp[-1] == pytest.approx(high, abs=1e-6)


def test_the_talkback_button_is_live_while_held(tmp_path):
    """The TALKBACK button on the (simulated) GPIO: the director's mic is in the phones from
    the press to the release, each on a period boundary, and the log names the button."""
    import grp
    import os
    import threading
    import time

    from servicerun import wait_for

    from stagebox.service import StageService

    feed = GuideFeed(StageFeed([CUE], passes=1, preroll=1.0, postroll=0.5, tail=2.0), 0.5)
    cfg = config_from_dict(
        {},
        overrides={
            "audio.backend": "sim",
            "audio.sim_realtime": True,
            "audio.capture_channels": 3,
            "audio.playback_channels": 1,
            "audio.headphone_channels": [1],
            "phones.talkback_channel": 3,  # the DC on the third channel is the director
            "phones.sidetone_modes": [],
            "beeps.enabled": False,
            "stage.mode": "record",
            "takes.folder": str(tmp_path / "takes"),
            "takes.disk_reserve_mb": 1,
            "lights.backend": "sim",
            "buttons.enabled": True,
            "buttons.debounce_ms": 5,
            "display.enabled": False,
            "control.socket": str(tmp_path / "control.sock"),
            "control.socket_group": grp.getgrgid(os.getgid()).gr_name,
        },
    )
    service = StageService(cfg, feed=feed, stop_at_end=True)
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(service.run()), daemon=True)
    thread.start()
    try:
        wait_for(lambda: service.engine is not None and service.engine.position > SR, 30, "1 s")
        service.gpio.press("talkback")
        wait_for(lambda: service.engine.phones.talkback_live, 15, "talkback live")
        time.sleep(0.3)
        service.gpio.release("talkback")
        wait_for(lambda: not service.engine.phones.talkback_live, 15, "talkback released")
    finally:
        thread.join(60)
    assert result == [0]
    commands = [(g.kind, g.command) for g in service.buttons.history]
    assert commands == [("press", "phones talkback on"), ("release", "phones talkback off")]
    played = service.backend.playback()[:, 0]
    live = np.flatnonzero(played > 0.5 - 1e-6)  # the talkback at 0 dB, fully faded in
    assert len(live) >= PERIOD  # held for some periods (0.3 s of wall time, less if loaded)
    assert np.all(np.diff(live) == 1)  # one stretch: from the press to the release
    heard = np.flatnonzero(played > 1e-6)
    start = int(heard[0]) + service.backend.playback_start
    assert (start - service.backend.playback_latency) % PERIOD == 0  # on a period boundary
    assert live[0] - heard[0] == 239  # faded in over 5 ms (240 samples), never a click
    assert played.max() <= 0.5 + 1e-6


def test_a_hold_button_sends_one_command_on_the_press_and_one_on_the_release():
    from stagebox.gpio.buttons import DEFAULT_ACTIONS, ButtonAction, ButtonError, Debouncer

    talkback = DEFAULT_ACTIONS["talkback"]
    d = Debouncer("talkback", talkback, debounce=0.02, long_press=0.8, repeat_interval=0.25)
    for t, level in ((1.000, True), (1.003, False), (1.005, True)):  # a bouncing contact
        d.edge(level, t)
    got = d.advance(3.0)  # held two seconds: no long press, no repeat
    assert [(g.kind, g.command, g.time) for g in got] == [
        ("press", "phones talkback on", pytest.approx(1.025))
    ]
    d.edge(False, 3.0)
    got = d.advance(4.0)
    assert [(g.kind, g.command) for g in got] == [("release", "phones talkback off")]
    stuck = Debouncer("talkback", talkback, 0.02, 0.8, 0.25, pressed=True)
    stuck.edge(False, 1.0)
    assert stuck.advance(2.0) == []  # held at start: ignored until released, then silent
    with pytest.raises(ButtonError, match="a hold button"):
        ButtonAction(
            "phones talkback on", long_press="mode safe", release="phones talkback off"
        ).validate("t")


def test_the_demo_reports_what_the_actor_heard(tmp_path):
    """`stagebox demo` (record mode): the beeps at their -20 dBFS and the actor's own voice
    reached the headphones; nothing else is wired, nothing clipped."""
    from stagebox.cli.demo import phones_line
    from stagebox.demo import run_demo

    sheet = tmp_path / "one_cue.csv"  # one cue of the demo's sheet: a short run
    sheet.write_text(
        "# rate: 25\nCue,TC In,TC Out,Character,Dialogue\n"
        "101,01:00:10:00,01:00:12:12,JOHN,Mary? Are you in there?\n"
    )
    result = run_demo(tmp_path / "demo", cue_sheet=sheet, passes=1)
    peaks = result.phones["max_dbfs"]
    assert peaks["beeps"] == pytest.approx(-20.0, abs=0.05)
    assert peaks["sidetone"] is not None and peaks["guide"] is None and peaks["talkback"] is None
    assert result.phones["clipped"] == 0
    line = phones_line(result.phones)
    assert line.startswith("actor's headphones (record mode): highest peaks beeps -20.0")


def test_new_settings_ramp_in_and_talkback_goes_when_its_channel_does():
    """A reload (SIGHUP) hands the mixer new settings: gains ramp to them; a talkback held
    stays live only if a talkback channel is still wired."""
    s = PhonesSettings(talkback_channel=2, guide_channel=1, sidetone_channels=(0,))
    mixer = PhoneMixer(SR, s)
    block = np.full((PERIOD, 3), 0.5, np.float32)

    def period():
        blocks = mixer.taps(block)
        return mixer.mix(blocks, "rehearse", PERIOD).copy()

    period()
    mixer.talkback(True)
    period()
    mixer.apply(dataclasses.replace(s, levels_db={**s.levels_db, "talkback": -6.0}))
    assert mixer.talkback_live  # still wired: still held
    for _ in range(3):
        out = period()
    # guide and sidetone at -6 dB, dimmed 20 dB, plus talkback at -6 dB: all 0.5 in
    assert out[-1] == pytest.approx(0.5 * MINUS_6 * (2 * 0.1 + 1), abs=1e-6)
    mixer.apply(dataclasses.replace(s, talkback_channel=None))
    assert not mixer.talkback_live
    for _ in range(3):
        out = period()
    assert out[-1] == pytest.approx(0.5 * MINUS_6 * 2, abs=1e-6)


# -- hostile requests ------------------------------------------------------------------------------


_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.sampled_from(["guide", "talkback", "review", "record", "safe", "-6", "", "dim"])
    | st.text(max_size=8)
    | st.lists(st.integers(), max_size=2)
)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    args=st.dictionaries(
        st.sampled_from(["source", "level_db", "on", "mode", "dim_db", "force"]),
        _VALUES,
        max_size=4,
    )
)
def test_any_phones_request_is_applied_whole_or_refused_in_one_line(args):
    from stagebox.control.protocol import ControlError
    from stagebox.control.schema import check_args
    from stagebox.phones.control import apply_request

    mixer = PhoneMixer(SR, PhonesSettings(guide_channel=1, sidetone_channels=(0,)))
    before = mixer.state()
    try:
        checked = check_args("phones.set", args)
        state = apply_request(mixer, checked, "rehearse")
    except (ControlError, ValueError) as exc:
        assert str(exc) and "\n" not in str(exc)
        assert mixer.state() == before  # refused: nothing changed
        return
    for level in state["levels_db"].values():
        assert -60 <= level <= 12
    assert -60 <= state["talkback_dim_db"] <= 0
    out = mixer.mix(mixer.taps(np.full((PERIOD, 2), 0.25, np.float32)), "rehearse", PERIOD)
    assert np.all(np.isfinite(out)) and np.all(np.abs(out) <= 1.0)
