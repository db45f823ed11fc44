"""Review mode: a take played back chasing the LTC, to the sample (stagebox.review).

The proof the issue asks for: a take recorded by the simulated stage, played back in review
mode on the same LTC feed, comes out of the headphones (as the simulated sound card hears
them) on the very samples where it was recorded: across a loop wrap, a stop-and-relocate, a
relocate into the middle of the take, and at +0.1 % varispeed (within a sample at TC-in and at
the end). Then the player alone, the take choice, and the service's commands.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from servicerun import sim_stage
from stagerun import ListSink, cue, run_feed, settings_for

from stagebox import events as ev
from stagebox.engine import Engine
from stagebox.review.choose import ReviewChoiceError, choose
from stagebox.review.player import ReviewPlayer
from stagebox.review.take import ReviewTake, ReviewTakeError, load_review_take
from stagebox.sim.stagefeed import StageFeed
from stagebox.snapshot import ClockFit
from stagebox.timecode import RATE_25, Rate, Timecode

SR = 48000
FEED = dict(preroll=1.0, postroll=0.5, lead_in=0.3, tail=0.3)


def recorded(rate: Rate = RATE_25, **feed_args):
    """Cue 103 recorded by the engine over one pass: (the cue, its take as ReviewTake, the
    recording run)."""
    c = cue("103", "01:00:10:00", "01:00:12:00", rate)
    feed = StageFeed([c], passes=1, **{**FEED, **feed_args})
    run = run_feed(feed, [c], mode="record", settings=settings_for(feed))
    [(start, audio, _)] = run.takes
    sr = feed.sample_rate
    take = ReviewTake("103", start.take, start.file, audio, sr, start.time_reference, start.rate)
    return c, take, run


def review(c, take, capture: np.ndarray, feed, period: int = 256):
    """A review pass of `take` over `capture`: the headphone output (mono), the events, and
    for each event (by id) the first sample of the period that decided it."""
    events: list = []
    decided: dict[int, int] = {}
    engine = Engine(settings_for(feed), sink=ListSink(), cues=[c], mode="review")

    def listen(event) -> None:
        events.append(event)
        decided[id(event)] = engine.position  # the period's start: position moves after

    engine.listeners.append(listen)
    engine.review.load(take)
    out = [engine.process(capture[p : p + period], p) for p in range(0, len(capture), period)]
    return np.concatenate(out)[:, 0], events, engine, decided


def lag_of(heard: np.ndarray, take: np.ndarray, at: int, span: int = 20) -> int:
    """The lag (samples) at which the take correlates best with what was heard from `at`."""
    scores = {
        lag: float(np.dot(heard[at + lag : at + lag + len(take)], take))
        for lag in range(-span, span + 1)
    }
    return max(scores, key=scores.get)


# -- the proof: played back through the simulated stage, to the sample -----------------------


@pytest.mark.parametrize(
    "rate, sr",
    [
        ("25", 48000),
        ("29.97", 48000),
        ("29.97df", 48000),
        ("23.976", 48000),
        ("30", 48000),
        ("29.97", 44100),
        ("24", 96000),
    ],
)
def test_a_take_plays_back_on_the_samples_it_was_recorded_across_a_loop_wrap(rate, sr):
    c, take, rec = recorded(Rate.parse(rate), sample_rate=sr)
    samples = take.samples[:, 0]
    assert rec.takes[0][0].first_sample == rec.feed.passes[0].tc_in_sample("103")
    feed = StageFeed([c], passes=2, wrap="instant", sample_rate=sr, **FEED)  # looped twice
    heard, events, _, decided = review(c, take, feed.render_all(), feed)
    assert len([e for e in events if e.event == ev.JUMP]) == 1  # the loop wrapped
    for p in feed.passes:
        tc_in = p.tc_in_sample("103")
        assert np.array_equal(heard[tc_in : tc_in + len(samples)], samples)  # bit for bit
        assert lag_of(heard, samples, tc_in) == 0
        assert not heard[tc_in - 2 * sr // 5 : tc_in].any()  # silence before TC-in (no beeps
        # there: they end a second before it)
        assert not heard[tc_in + len(samples) : tc_in + len(samples) + sr // 4].any()
    # the original pass's microphone, as the recorder took it, lines up at lag 0 too
    mic = rec.audio[:, rec.feed.mic_channel]
    tc_in = rec.feed.passes[0].tc_in_sample("103")
    first = feed.passes[0].tc_in_sample("103")
    assert lag_of(heard, mic[tc_in : tc_in + len(samples)], first) == 0


def test_review_records_nothing_and_lights_the_cue_light_only():
    c, take, _ = recorded()
    feed = StageFeed([c], passes=2, wrap="relocate", relocate_gap=0.5, **{**FEED, "preroll": 3.5})
    heard, events, engine, _ = review(c, take, feed.render_all(), feed)
    assert not any(e.event in (ev.PUNCH_IN, ev.PUNCH_OUT) for e in events)
    lights = [(e.name, e.state) for e in events if e.event == ev.LIGHT]
    assert lights == [("cue", True), ("cue", False)] * 2
    assert len([e for e in events if e.event == ev.BEEP]) == 6  # the actor still hears them
    for p in feed.passes:  # the DAW stopped and relocated to the pre-roll between the passes
        tc_in = p.tc_in_sample("103")
        assert np.array_equal(heard[tc_in : tc_in + take.frames], take.samples[:, 0])
    snap = engine.snapshot()
    assert snap.mode == "review" and snap.take == 1 and snap.review == "103 take 1"


def test_a_relocate_into_the_middle_of_the_take_re_derives_the_position_from_the_fit():
    c, take, _ = recorded()
    samples = take.samples[:, 0]
    feed = StageFeed([c], passes=2, wrap="relocate", relocate_gap=0.5, **FEED)
    capture = feed.render_all()
    first, second = (p.tc_in_sample("103") for p in feed.passes)
    # The DAW jumps from 1.2 s into the take back to 0.4 s into it (a punch-in relocate):
    # the capture runs pass 1 up to `cut`, then pass 2 from 0.4 s after its TC-in.
    cut, resume = first + int(1.2 * SR), second + int(0.4 * SR)
    spliced = np.concatenate([capture[:cut], capture[resume:]])
    heard, events, _, decided = review(c, take, spliced, feed)
    [jump] = [e for e in events if e.event == ev.JUMP]
    assert cut <= jump.sample < cut + 2 * 1920  # found on the first whole frame after it
    assert np.array_equal(heard[first:cut], samples[: cut - first])
    # from the period that decoded the jump on: the take from 0.4 s + the time since, exact
    settled = decided[id(jump)] + 48  # past the 1 ms fade-in of the new start
    assert settled - jump.sample < 3 * 1920  # a frame to decode it, a period to hear it
    offset = resume - cut - second  # take position = spliced sample + offset
    end = second + take.frames - resume + cut
    assert np.array_equal(heard[settled:end], samples[settled + offset : end + offset])
    assert not heard[end : end + SR // 10].any()


def test_at_plus_0_1_percent_varispeed_the_take_follows_the_timecode_within_a_sample():
    c, take, _ = recorded()
    samples = take.samples[:, 0].astype(np.float64)
    speed = 1.001  # the DAW's picture pull-up: LTC runs 0.1 % fast
    feed = StageFeed([c], passes=2, speed=speed, **FEED)
    heard, _, _, _ = review(c, take, feed.render_all(), feed)
    positions = np.arange(take.frames)
    for p in feed.passes:
        start = p.cue_starts["103"]  # fractional sample where TC-in's frame really began
        length = take.frames / speed  # capture samples the take lasts at this speed
        assert abs(length - take.frames) > 90  # resampled: 96 samples shorter than recorded
        for at in (start, start + length - 0.25 * SR):  # at TC-in and a quarter second before
            # the end: what was heard against the take resampled by the feed's own truth
            s = np.arange(math.floor(at), math.floor(at) + SR // 4)
            truth = np.interp((s - start) * speed, positions, samples, left=0, right=0)
            scores = {lag: float(np.dot(heard[s + lag], truth)) for lag in range(-8, 9)}
            assert max(scores, key=scores.get) == 0
            if at == start:  # the line (the noise floor is all top octave: not comparable)
                error = np.sqrt(np.mean((heard[s] - truth) ** 2))
                assert error < 0.05 * np.sqrt(np.mean(truth**2)), error
        sounding = np.flatnonzero(heard[int(start) - SR // 10 : int(start + length) + SR // 10])
        first = int(start) - SR // 10 + sounding[0]
        last = int(start) - SR // 10 + sounding[-1]
        assert abs(first - start) <= 1 and abs(last - (start + length - 1)) <= 1


def test_lost_ltc_silences_the_take_and_nothing_plays_outside_review_mode():
    c, take, _ = recorded()
    feed = StageFeed([c], passes=1, dropouts=[(0, 1.5, 1.0)], **FEED)  # 1 s gone mid-take
    heard, events, _, decided = review(c, take, feed.render_all(), feed)
    unlock = next(e for e in events if e.event == ev.UNLOCK)
    tc_in = feed.passes[0].tc_in_sample("103")
    gone = feed.passes[0].dropouts[0]
    assert gone[0] < unlock.sample < gone[0] + 8 * 1920  # after freewheeling a few frames
    assert not heard[unlock.sample + 1920 : gone[1]].any()  # silent while lost
    assert np.array_equal(heard[tc_in : gone[0]], take.samples[: gone[0] - tc_in, 0])
    engine = Engine(settings_for(feed), sink=ListSink(), cues=[c], mode="rehearse")
    engine.review.load(take)
    capture = feed.fresh().render_all()
    out = [engine.process(capture[p : p + 256], p) for p in range(0, len(capture), 256)]
    heard = np.concatenate(out)[:, 0]
    assert not heard[tc_in : tc_in + take.frames].any()  # rehearse: beeps only


# -- the player alone -----------------------------------------------------------------------------


def _take(tc: str = "01:00:10:00", rate: Rate = RATE_25, frames: int = 4800, into: int = 0):
    rng = np.random.default_rng(7)
    samples = rng.uniform(-0.5, 0.5, (frames, 1)).astype(np.float32)
    stamp = Timecode.parse(tc, rate).samples_since_midnight(SR) + into
    return ReviewTake("103", 2, "103_T002.wav", samples, SR, stamp, rate)


def _fit(tc: str, at: float, rate: Rate = RATE_25, speed: float = 1.0) -> ClockFit:
    """Frame `tc` starts at capture sample `at`; frames last nominal / speed samples."""
    spf = float(rate.samples_per_frame(SR)) / speed
    return ClockFit(at, Timecode.parse(tc, rate).frame_count, spf, rate)


def test_at_nominal_speed_the_player_gives_the_takes_samples_exactly():
    take = _take(into=17)  # the stamp 17 samples into its frame (a record offset)
    player = ReviewPlayer(SR)
    player.load(take)
    # the fit's anchor two seconds after the take's frame, on a fractional sample
    fit = _fit("01:00:12:00", 100_000.3)
    c0 = math.floor(100_000.3 - 50 * 1920 + 0.5) + 17
    out = player.render(c0 - 100, 1000, fit)[:, 0]
    assert not out[:100].any()
    assert np.array_equal(out[100:], take.samples[:900, 0])
    assert player.position_at(c0, fit) == 0.0
    # the fit wobbling by a few hundredths of a sample (a refit) moves nothing
    wobble = _fit("01:00:12:00", 100_000.33)
    assert np.array_equal(player.render(c0 + 900, 256, wobble)[:, 0], take.samples[900:1156, 0])
    # on to the end, period by period: the last sample, then silence
    at = c0 + 1156
    blocks = [player.render(a, 256, fit)[:, 0] for a in range(at, c0 + take.frames + 256, 256)]
    heard = np.concatenate(blocks)
    assert np.array_equal(heard[: take.frames - 1156], take.samples[1156:, 0])
    assert not heard[take.frames - 1156 :].any()


def test_29_97_frames_are_placed_as_the_punch_rounds_them():
    rate = Rate.parse("29.97")
    take = _take(rate=rate)
    player = ReviewPlayer(SR)
    player.load(take)
    fit = _fit("01:00:10:00", 5000.5, rate)  # the frame starts half way: rounds up
    out = player.render(5000, 10, fit)[:, 0]
    assert out[0] == 0 and np.array_equal(out[1:], take.samples[:9, 0])


def test_varispeed_positions_are_fractional_and_exact_at_whole_ones():
    take = _take()
    player = ReviewPlayer(SR)
    player.load(take)
    fit = _fit("01:00:10:00", 2000.0, speed=0.999)  # -0.1 %: 1921.92 samples a frame
    out = player.render(2000, 2000, fit)[:, 0]
    positions = np.arange(2000) * 0.999
    assert out[0] == take.samples[0, 0]  # position 0: the sample itself
    truth = np.interp(positions, np.arange(take.frames), take.samples[:, 0])
    assert np.sqrt(np.mean((out - truth) ** 2)) < 0.2 * np.sqrt(np.mean(truth**2))
    assert player.position_at(3000, fit) == pytest.approx(999.0)


def test_silence_with_no_fit_with_no_take_and_at_another_rate():
    take = _take()
    player = ReviewPlayer(SR)
    assert player.render(0, 64, _fit("01:00:10:00", 0.0)).shape == (64, 1)
    player.load(take)
    assert not player.render(0, 64, None).any()
    other = _fit("01:00:10:00", 0.0, Rate.parse("24"))
    assert not player.render(0, 64, other).any()
    assert player.problem == "take 103 take 2 is at 25, the LTC at 24"


def test_playback_starting_inside_the_take_fades_in_and_a_continued_one_does_not():
    take = _take()
    player = ReviewPlayer(SR)
    player.load(take)
    fit = _fit("01:00:10:00", 0.0)
    out = player.render(1000, 256, fit)[:, 0]  # picked up 1000 samples into the take
    assert abs(out[0]) < abs(take.samples[1000, 0]) * 0.01
    assert np.array_equal(out[48:], take.samples[1048:1256, 0])
    assert np.array_equal(player.render(1256, 256, fit)[:, 0], take.samples[1256:1512, 0])


def test_the_take_is_placed_across_midnight():
    take = _take("23:59:59:20")
    player = ReviewPlayer(SR)
    player.load(take)
    fit = _fit("00:00:00:00", 5 * 1920.0)  # midnight, 5 frames after the take began
    out = player.render(0, 1000, fit)[:, 0]
    assert np.array_equal(out, take.samples[:1000, 0])


# -- choosing and loading the take ----------------------------------------------------------------


def _records():
    from stagebox.takes.log import COMPLETE, FAILED, INTERRUPTED, TakeRecord

    def r(n, state=COMPLETE, circled=False, frames=4800):
        return TakeRecord(
            "103",
            n,
            f"103_T{n:03d}.wav",
            "01:00:10:00",
            "01:00:12:00",
            SR,
            frames,
            rate="25",
            circled=circled,
            state=state,
        )

    return [r(1), r(2, circled=True), r(3, INTERRUPTED), r(4, FAILED, frames=0), r(5, frames=0)]


def test_choose_the_last_the_circled_a_number_and_steps():
    records = _records()
    assert choose("103", records, "last").take == 3  # 4 failed, 5 holds no audio
    assert choose("103", records, "circled").take == 2
    assert choose("103", records, 1).take == 1
    assert choose("103", records, "next", 1).take == 2
    assert choose("103", records, "next", 3).take == 3  # stops at the last
    assert choose("103", records, "previous", 2).take == 1
    assert choose("103", records, "previous", 1).take == 1
    with pytest.raises(
        ReviewChoiceError, match=r"cue 103 has no take 4 to review \(takes: 1, 2, 3\)"
    ):
        choose("103", records, 4)
    with pytest.raises(ReviewChoiceError, match="cue 103 has no circled take"):
        choose("103", records[:1], "circled")
    with pytest.raises(ReviewChoiceError, match="cue 104 has no take to review"):
        choose("104", [], "last")


def test_loading_a_take_file_reads_its_time_reference_and_refuses_what_it_cannot_place(tmp_path):
    from stagebox.audio.wavout import write_pcm_wav
    from stagebox.takes.bwf import TakeFile, TakeFormat
    from stagebox.takes.meta import TakeMetadata

    stamp = Timecode.parse("01:00:10:00", RATE_25).samples_since_midnight(SR) + 5
    path = tmp_path / "103_T002.wav"
    meta = TakeMetadata(project="p", scene="103", take="2", rate=RATE_25)
    f = TakeFile(path, TakeFormat(SR, 1), meta.with_file_facts(time_reference=stamp))
    f.write(np.full((480, 1), 0.25, dtype=np.float32))
    f.close()
    take = load_review_take(path, "103", 2)
    assert (take.time_reference, take.frames, take.rate, take.label) == (
        stamp,
        480,
        RATE_25,
        "103 take 2",
    )
    assert str(take.tc_in) == "01:00:10:00" and take.samples[0, 0] == 0.25
    plain = tmp_path / "plain.wav"
    write_pcm_wav(plain, [np.zeros((10, 1), np.float32)], SR, 1, 16)
    with pytest.raises(ReviewTakeError, match=r"plain\.wav: no bext or iXML"):
        load_review_take(plain, "103", 1)
    with pytest.raises(ReviewTakeError, match=r"gone\.wav: No such file"):
        load_review_take(tmp_path / "gone.wav", "103", 1)


# -- the service: takes from disk, the sound card's playback, commands and buttons --------------


def _service(tmp_path, feed, sheet, mode: str, **more):
    from stagebox.config import config_from_dict
    from stagebox.service import StageService

    overrides = {
        "audio.backend": "sim",
        "audio.capture_channels": feed.channels,
        "audio.ltc_channel": feed.ltc_channel + 1,
        "audio.mic_channels": [feed.mic_channel + 1],
        "stage.mode": mode,
        "stage.cue_sheet": str(sheet),
        **sim_stage(tmp_path),
        **more,
    }
    return StageService(config_from_dict({}, overrides=overrides), feed=feed, stop_at_end=True)


def test_the_stage_records_takes_then_plays_the_last_back_through_the_sound_card(tmp_path):
    from servicerun import write_sheet

    from stagebox.wavfile import read_wav

    c = cue("103", "01:00:10:00", "01:00:12:00", RATE_25)
    sheet = write_sheet(tmp_path / "reel1.csv", [c])
    recording = StageFeed([c], passes=2, **FEED)
    assert _service(tmp_path, recording, sheet, "record").run() == 0
    mic = recording.fresh().render_all()[:, recording.mic_channel]
    # The stage starts in review mode on the same LTC: it loads cue 103's last take (2) from
    # its file and plays it on both passes, as the sim sound card hears it (512 samples of
    # playback latency, made up for by the engine).
    feed = StageFeed([c], passes=2, **FEED)
    service = _service(tmp_path, feed, sheet, "review")
    events = []
    service.add_listener(events.append)
    assert service.run() == 0
    assert service.backend.playback_latency == 512 and service.backend.playback_start == 0
    take = read_wav(tmp_path / "takes" / "103_T002.wav").samples[:, 0]
    heard = service.backend.playback()[:, 0]
    for p in feed.passes:
        tc_in = p.tc_in_sample("103")
        assert np.array_equal(heard[tc_in : tc_in + len(take)], take)
        if p.index == 1:  # the pass take 2 was recorded on: its microphone, at lag 0
            assert lag_of(heard, mic[tc_in : tc_in + len(take)], tc_in) == 0
    assert not any(e.event == ev.PUNCH_IN for e in events)
    assert service.status()["review"] == "103 take 2"
    assert sorted(p.name for p in (tmp_path / "takes").glob("*.wav")) == [
        "103_T001.wav",
        "103_T002.wav",
    ]


def test_next_and_previous_cue_buttons_step_through_the_takes_in_review_mode(tmp_path):
    from servicerun import wait_for, write_sheet

    c = cue("103", "01:00:10:00", "01:00:12:00", RATE_25)
    sheet = write_sheet(tmp_path / "reel1.csv", [c])
    assert _service(tmp_path, StageFeed([c], passes=3, **FEED), sheet, "record").run() == 0
    feed = StageFeed([c], passes=1, **FEED)
    buttons = {"buttons.enabled": True, "buttons.debounce_ms": 5}
    service = _service(tmp_path, feed, sheet, "review", **buttons)
    pressed = []

    def crew(event) -> None:  # on the pass's start: PREV twice, then NEXT, as the crew would
        if event.event == ev.PASS_START:
            for name in ("previous_cue", "previous_cue", "next_cue", "circle"):
                service.gpio.press(name)
                time.sleep(0.05)
                service.gpio.release(name)
                time.sleep(0.05)
                pressed.append(name)

    service.add_listener(crew)
    assert service.run() == 0
    assert pressed
    wait_for(lambda: len(service.buttons.history) == 4, 5, "four presses")
    assert [g.command for g in service.buttons.history] == [
        "cue previous",
        "cue previous",
        "cue next",
        "take circle",
    ]
    wait_for(lambda: service.review.player.take.take == 2, 5, "take 3 -> 2 -> 1 -> 2")
    # CIRCLE in review circles the take being listened to, not the last one recorded
    circled = lambda: [r.take for r in service.takelog.takes("103") if r.circled]  # noqa: E731
    wait_for(lambda: circled() == [2], 5, "take 2 circled")
    assert choose("103", service.takelog.takes("103"), "circled").take == 2


def test_status_monitor_panel_and_systemd_say_which_take_is_under_review():
    from stagebox.cli.show import status_lines as cli_lines
    from stagebox.monitor.render import render
    from stagebox.panel.layout import status_lines as panel_lines
    from stagebox.snapshot import StageSnapshot

    snap = StageSnapshot(sample=0, sample_rate=SR, mode="review", take=2, review="103 take 2")
    assert panel_lines(snap).mode == "REVIEW 103 TK 2"
    status = {**snap.to_dict(), "uptime": 1.0}
    assert "take       REVIEW 103 take 2" in cli_lines(status)
    assert "REVIEW 103 take 2" in render(status, 100, 30)[0]
    nothing = {**status, "review": "cue 104 has no take to review"}
    assert "take       REVIEW cue 104 has no take to review" in cli_lines(nothing)


def test_long_rehearse_is_review_and_the_review_commands_are_button_commands():
    from gpio_helpers import FakeClock

    from stagebox.gpio import sim
    from stagebox.gpio.buttons import COMMANDS, DEFAULT_ACTIONS, Buttons
    from stagebox.gpio.pinmap import load_pinmap

    assert {"mode review", "review next", "review previous"} <= set(COMMANDS)
    assert DEFAULT_ACTIONS["rehearse"].long_press == "mode review"
    clock = FakeClock(1000.0)
    backend = sim.Backend(clock=clock)
    sent: list[str] = []
    buttons = Buttons(backend, load_pinmap(), sent.append, clock=clock)
    backend.hold("rehearse", 1000.0, 0.1)  # a press: rehearse, on the release
    backend.hold("rehearse", 1001.0, 1.5)  # held: review
    buttons.service(1005.0)
    assert sent == ["mode rehearse", "mode review"]


def test_the_review_command_over_the_socket_and_the_cli(tmp_path):
    from servicerun import RunningService, StageDir, wait_for, write_sheet

    from stagebox.control.protocol import ControlError

    stage = StageDir(tmp_path)
    c = cue("103", "01:00:10:00", "01:00:12:00", RATE_25)
    stage.write_feed([c], passes=8, preroll=1.0)
    sheet = write_sheet(tmp_path / "reel1.csv", [c])
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    with RunningService(stage) as svc:
        svc.wait_ready()
        complete = lambda: [t for t in svc.call("takes", cue="103") if t["state"] == "complete"]  # noqa: E731
        wait_for(lambda: len(complete()) >= 2, 30, "two takes of cue 103")
        # (refused while a later pass records a take: "review when it closes"; asked again)
        first = lambda: svc.cli("review", "103", "1", check=False)  # noqa: E731
        out = wait_for(lambda: (r := first()).returncode == 0 and r.stdout, 30, "review 103 1")
        assert out.startswith("review: 103 take 1 (mode review, last take)")
        assert "file: 103_T001.wav, TC-in 01:00:10:00" in out
        recorded = len(svc.call("takes", cue="103"))
        status = svc.call("status")
        assert (status["mode"], status["review"], status["take"]) == ("review", "103 take 1", 1)
        assert svc.cli("review", "next").stdout.startswith("review: 103 take 2")
        assert svc.cli("status").stdout.count("REVIEW 103 take 2") == 1
        bad = svc.cli("review", "--circled", check=False)
        assert bad.returncode == 2 and bad.stderr.strip() == "stagebox: cue 103 has no circled take"
        svc.cli("take", "circle", "103", "1")
        assert svc.cli("review", "--circled").stdout.startswith("review: 103 take 1")
        bad = svc.cli("review", "103", "9", check=False)
        assert bad.returncode == 2 and "cue 103 has no take 9 to review" in bad.stderr
        bad = svc.cli("review", "104", "1", check=False)
        assert bad.returncode == 2 and "no cue '104'" in bad.stderr
        bad = svc.cli("review", "103", "two", check=False)
        assert bad.returncode == 2 and "take must be a number, not 'two'" in bad.stderr
        with pytest.raises(ControlError, match="'which' must be last, circled, next or previous"):
            svc.call("review", which="best")
        with pytest.raises(ControlError, match="'take' must be a whole number"):
            svc.call("review", cue="103", take=1.5)
        time.sleep(2.0)  # passes go on rolling: in review nothing is recorded
        assert len(svc.call("takes", cue="103")) == recorded
        assert svc.cli("mode", "record").stdout.strip() == "mode: record"
        assert svc.stop() == 0
    assert "Traceback" not in svc.log


def _take_file(folder, cue_number: str, take: int, tc: str, value: float):
    """A take file as the stage writes it (BWF, stamped at `tc`) and its take log record."""
    from stagebox.takes.bwf import TakeFile, TakeFormat
    from stagebox.takes.log import TakeRecord
    from stagebox.takes.meta import TakeMetadata

    name = f"{cue_number}_T{take:03d}.wav"
    stamp = Timecode.parse(tc, RATE_25).samples_since_midnight(SR)
    meta = TakeMetadata(project="p", scene=cue_number, take=str(take), rate=RATE_25)
    f = TakeFile(folder / name, TakeFormat(SR, 1), meta.with_file_facts(time_reference=stamp))
    f.write(np.full((960, 1), value, dtype=np.float32))
    f.close()
    return TakeRecord(cue_number, take, name, tc, tc, SR, 960, rate="25")


def test_the_desk_follows_the_stage_into_review_and_from_cue_to_cue(tmp_path):
    from servicerun import wait_for

    from stagebox.review.desk import ReviewDesk
    from stagebox.takes.log import TakeLog

    log = TakeLog(tmp_path)
    for cue_number, take, tc, value in (
        ("103", 1, "01:00:10:00", 0.25),
        ("103", 2, "01:00:10:00", 0.5),
        ("104", 1, "01:00:20:00", 0.125),
    ):
        log.record_take(_take_file(tmp_path, cue_number, take, tc, value))
    player = ReviewPlayer(SR)
    desk = ReviewDesk(player, log, tmp_path, mode="rehearse", cue="103").start()
    try:
        desk.on_event(ev.CueChange(sample=0, cue="104"))
        desk.on_event(ev.CueChange(sample=0, cue="103"))
        assert player.take is None  # rehearse: nothing loaded
        desk.on_event(ev.ModeChange(sample=0, mode="review"))
        wait_for(lambda: player.take is not None, 5, "cue 103's last take")
        assert (player.take.label, player.take.samples[0, 0]) == ("103 take 2", 0.5)
        assert desk.describe() == "103 take 2"
        assert desk.select("103", "previous").take == 1
        desk.on_event(ev.CueChange(sample=0, cue="104"))
        assert player.take is None or player.take.cue == "104"  # 103's stops at once
        wait_for(lambda: player.take is not None and player.take.cue == "104", 5, "cue 104")
        desk.on_event(ev.CueChange(sample=0, cue="105"))
        wait_for(lambda: desk.describe() == "cue 105 has no take to review", 5, "cue 105")
        assert player.take is None
        desk.on_event(ev.CueChange(sample=0, cue="103"))  # the take picked is kept
        wait_for(lambda: player.take is not None and player.take.cue == "103", 5, "cue 103")
        assert player.take.take == 1
        assert desk.select("103", "last").take == 2  # until --last asks again
        (tmp_path / "104_T001.wav").write_bytes(b"RIFF")  # a file gone bad since
        with pytest.raises(ReviewTakeError, match=r"104_T001\.wav: "):
            desk.select("104")
        assert desk.describe() == "103 take 2"  # the current cue's take still plays
    finally:
        desk.stop()


def test_review_asked_while_a_take_records_says_so_and_leaves_the_desk_alone(tmp_path):
    """The first take recording: not "no take to review" but "review when it closes"; a later
    take recording: the refused pick of an earlier take does not move the desk either."""
    from servicerun import RunningService, StageDir, write_sheet

    stage = StageDir(tmp_path)
    c = cue("103", "01:00:10:00", "01:00:12:00", RATE_25)
    stage.write_feed([c], passes=3, preroll=1.0)
    sheet = write_sheet(tmp_path / "reel1.csv", [c])
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    with RunningService(stage) as svc:
        svc.wait_ready()
        svc.wait_until(lambda s: s["recording"] and s["take"] == 1, 15, "take 1 recording")
        bad = svc.cli("review", "103", "1", check=False)
        assert bad.returncode == 2
        assert bad.stderr.strip() == (
            "stagebox: take 1 of cue 103 is recording: review when it closes"
        )
        svc.wait_until(lambda s: s["recording"] and s["take"] == 2, 15, "take 2 recording")
        bad = svc.cli("review", "103", "1", check=False)
        assert "take 2 of cue 103 is recording: review when it closes" in bad.stderr
        assert svc.call("review")["take"] is None  # nothing picked by the refused command
        assert svc.call("status")["mode"] == "record"
        assert svc.stop() == 0
    assert "Traceback" not in svc.log
