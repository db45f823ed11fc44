"""The stage engine on simulated stage feeds: punches to the sample, passes, beeps, lights.

The feeds come from `StageFeed`, which knows where every LTC frame really starts; the engine
runs with the real LTC decoder and clock, so these tests judge the whole timing chain.
"""

import math

import numpy as np
import pytest
from stagerun import ListSink, cue, run_feed, settings_for

from stagebox.beeps import BeepSettings
from stagebox.cues.cue import Cue
from stagebox.sim.stagefeed import Dropout, StageFeed
from stagebox.stage import StageSettings
from stagebox.timecode import RATE_25, RATE_2997DF, RATE_23976, Timecode


def assert_takes_exact(run, number):
    """Each pass's take starts on its TC-in frame's sample and ends on TC-out's, and holds
    exactly the mic audio of that span."""
    takes = [t for t in run.takes if t[0].cue == number]
    assert len(takes) == len(run.feed.passes)
    mic = run.audio[:, run.feed.mic_channel]
    for (take, audio, _note), truth in zip(takes, run.feed.passes, strict=True):
        first, stop = truth.tc_in_sample(number), truth.tc_out_sample(number)
        assert take.first_sample == first
        assert len(audio) == stop - first
        np.testing.assert_array_equal(audio[:, 0], mic[first:stop])


@pytest.mark.parametrize(
    "rate, tc_in, tc_out",
    [
        (RATE_23976, "00:59:58:10", "01:00:00:20"),
        (RATE_25, "01:00:10:00", "01:00:12:13"),
        (RATE_2997DF, "00:59:59;20", "01:00:01;08"),  # crosses a dropped-label minute
    ],
)
@pytest.mark.parametrize("wrap", ["instant", "relocate"])
def test_punch_exact_across_loop_passes(rate, tc_in, tc_out, wrap):
    c = cue("12", tc_in, tc_out, rate)
    feed = StageFeed([c], passes=3, preroll=2.5, postroll=1.0, wrap=wrap)
    run = run_feed(feed, [c])
    assert_takes_exact(run, "12")
    assert [t[0].take for t in run.takes] == [1, 2, 3]
    assert len(run.of("pass_start")) == 3 and len(run.of("pass_end")) == 3
    # Each punch event sits on its take's sample.
    assert [e.sample for e in run.of("punch_in")] == [t[0].first_sample for t in run.takes]


def test_time_reference_is_samples_since_midnight_of_tc_in():
    c = cue("3", "01:00:10:00", "01:00:11:00", RATE_25)
    run = run_feed(StageFeed([c], passes=1, preroll=2.0), [c])
    take = run.takes[0][0]
    assert take.time_reference == (3600 + 10) * 48000


def test_two_cues_in_one_loop_followed_from_timecode():
    a = cue("1", "01:00:03:00", "01:00:04:00", RATE_25)
    b = cue("2", "01:00:08:00", "01:00:09:10", RATE_25)
    feed = StageFeed([a, b], passes=2, preroll=2.0, postroll=1.0)
    run = run_feed(feed, [a, b], settings=settings_for(feed, preroll_seconds=2.0))
    assert [(t[0].cue, t[0].take) for t in run.takes] == [("1", 1), ("2", 1), ("1", 2), ("2", 2)]
    assert_takes_exact(run, "1")
    assert_takes_exact(run, "2")


def test_rehearse_records_nothing_but_beeps_and_cue_light():
    c = cue("5", "01:00:10:00", "01:00:11:00", RATE_25)
    run = run_feed(StageFeed([c], passes=1, preroll=4.0), [c], mode="rehearse")
    assert run.takes == [] and run.of("punch_in") == []
    assert len(run.of("beep")) == 3
    lights = [(e.name, e.state) for e in run.of("light")]
    assert lights == [("cue", True), ("cue", False)]


def test_safe_does_nothing():
    c = cue("5", "01:00:10:00", "01:00:11:00", RATE_25)
    run = run_feed(StageFeed([c], passes=1, preroll=4.0), [c], mode="safe")
    assert [e.event for e in run.events] == ["lock", "unlock"]


def test_beeps_land_on_their_samples_in_the_headphones():
    c = cue("5", "01:00:10:00", "01:00:11:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=4.0)
    run = run_feed(feed, [c], mode="rehearse")
    truth = feed.passes[0]
    frame = 1920  # samples at 25 fps, 48 kHz
    expected = [truth.tc_in_sample("5") - k * 25 * frame for k in (3, 2, 1)]
    assert [e.sample for e in run.of("beep")] == expected
    phones = run.playback[:, 0]
    loud = np.flatnonzero(phones != 0)
    # Three bursts, each starting on its beep sample and one frame long.
    starts = [loud[0], *loud[1:][np.diff(loud) > 100]]
    assert [int(s) for s in starts] == [e + 1 for e in expected]  # fade-in: sample 0 is 0.0
    for s in expected:
        burst = phones[s : s + frame]
        assert np.max(np.abs(burst)) == pytest.approx(10 ** (-20 / 20), rel=0.01)
        assert np.all(phones[s + frame : s + frame + 100] == 0)
        # 1 kHz: 48 samples a cycle, 40 cycles in a frame -> 80 zero crossings.
        crossings = np.count_nonzero(np.diff(np.signbit(burst[48:-48])))
        assert abs(crossings - 76) <= 2


def test_beep_settings_count_spacing_and_tc_in_beep():
    c = cue("5", "01:00:10:00", "01:00:11:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=4.0)
    beeps = BeepSettings(count=2, spacing_seconds=0.5, beep_at_tc_in=True)
    run = run_feed(feed, [c], mode="rehearse", settings=settings_for(feed, beeps=beeps))
    t = feed.passes[0].tc_in_sample("5")
    frame = 1920
    # 0.5 s at 25 fps is 12.5 labels: rounded to 12 frames, so beeps stay on frame boundaries.
    assert [e.sample for e in run.of("beep")] == [t - 24 * frame, t - 12 * frame, t]


def test_preroll_shorter_than_streamer_and_beeps():
    c = cue("8", "01:00:10:00", "01:00:11:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=1.2)  # LTC starts 1.2 s before TC-in
    run = run_feed(feed, [c])
    # Two-second streamer: the cue light comes on as soon as the pass starts.
    on = [e for e in run.of("light") if e.name == "cue" and e.state]
    assert on[0].sample == run.of("pass_start")[0].sample
    # Only the beep at TC-in minus one second could still be played; the others are reported.
    assert [e.n for e in run.of("beep")] == [3]
    missed = [e.detail for e in run.of("warning")]
    assert missed == [
        "beep 1 at 01:00:07:00 missed: the pass started after it",
        "beep 2 at 01:00:08:00 missed: the pass started after it",
    ]
    assert_takes_exact(run, "8")


def test_late_pickup_records_from_first_locked_sample():
    c = cue("9", "01:00:10:00", "01:00:12:00", RATE_25)
    # The loop starts half a second after TC-in: LTC picked up inside the window.
    feed = StageFeed([c], passes=1, preroll=-0.0, postroll=1.0)
    late = cue("9", "01:00:09:12", "01:00:12:00", RATE_25)  # the sheet says 13 frames earlier
    run = run_feed(feed, [late])
    (take, audio, note) = run.takes[0]
    truth = feed.passes[0]
    first = math.floor(truth.frame_starts[0] + 0.5)
    assert take.first_sample == first
    assert "late pickup" in run.of("punch_in")[0].note
    assert len(audio) == truth.tc_out_sample("9") - first


def test_ltc_dropout_mid_take_is_bridged_one_pass_one_take_and_a_long_one_closes_it():
    c = cue("4", "01:00:10:00", "01:00:16:00", RATE_25)
    # 0.1 s and 1.5 s dropouts are bridged (take_dropout_seconds, default 2 s, counted as 60
    # frames); a 3 s dropout loses the LTC mid-take.
    feed = StageFeed(
        [c],
        passes=3,
        preroll=2.0,
        dropouts=[Dropout(0, 3.0, 0.1), Dropout(1, 3.0, 1.5), Dropout(2, 3.0, 3.0)],
    )
    run = run_feed(feed, [c])
    first, second, third, fourth = run.takes
    truth0, truth1, truth2 = feed.passes
    for take, truth in ((first, truth0), (second, truth1)):
        # One pass, one take: sample-exact from TC-in to TC-out through the dropout.
        assert take[0].first_sample == truth.tc_in_sample("4")
        assert len(take[1]) == truth.tc_out_sample("4") - truth.tc_in_sample("4")
        assert "LTC lost" not in take[2]
    assert "LTC dropout 1.4" in second[2] and "bridged" in second[2]  # the note says so
    # Third pass: closed at the end of the bridge, with all the audio it had, noted.
    assert "LTC lost" in third[2]
    unlock = run.of("unlock")[0]
    assert third[0].first_sample + len(third[1]) == unlock.sample
    muted_from, back_at = truth2.dropouts[0]
    assert unlock.sample - muted_from == 60 * 1920  # 60 frames bridged
    # LTC comes back inside the window: a new take, a late pickup, to TC-out.
    assert "late pickup" in fourth[2]
    assert back_at <= fourth[0].first_sample < back_at + 1920
    assert fourth[0].first_sample + len(fourth[1]) == truth2.tc_out_sample("4")


def test_lights_follow_punch_and_streamer():
    c = cue("2", "01:00:10:00", "01:00:11:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=4.0)
    run = run_feed(feed, [c])
    t = feed.passes[0]
    lights = [(e.name, e.state, e.sample) for e in run.of("light")]
    assert lights == [
        ("cue", True, t.tc_in_sample("2") - 2 * 25 * 1920),
        ("cue", False, t.tc_in_sample("2")),
        ("record", True, t.tc_in_sample("2")),
        ("record", False, t.tc_out_sample("2")),
    ]


def test_record_light_for_whole_pass_and_cue_light_on_the_line():
    c = cue("2", "01:00:10:00", "01:00:11:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=4.0)
    settings = settings_for(feed, record_light="pass", cue_light="line")
    run = run_feed(feed, [c], settings=settings)
    t = feed.passes[0]
    lights = {(e.name, e.state): e.sample for e in run.of("light")}
    assert lights[("cue", True)] == t.tc_in_sample("2")
    assert lights[("cue", False)] == t.tc_out_sample("2")
    assert lights[("record", True)] == run.of("pass_start")[0].sample
    assert lights[("record", False)] == run.of("pass_end")[0].sample


def test_handles_and_record_offset():
    c = cue("6", "01:00:10:00", "01:00:11:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=3.0)
    settings = settings_for(feed, handles_before=5, handles_after=3, record_offset=17)
    run = run_feed(feed, [c], settings=settings)
    take, audio, _ = run.takes[0]
    t = feed.passes[0]
    assert take.first_sample == t.tc_in_sample("6") - 5 * 1920 + 17
    assert take.first_sample + len(audio) == t.tc_out_sample("6") + 3 * 1920 + 17


def test_overlapping_windows_pass_to_the_next_cue_after_post_roll():
    # Cue 2's pre-roll (2 s) begins before cue 1's post-roll (1 s) ends: cue 2's pass starts
    # where cue 1's ended, never before, and both takes are exact.
    a = cue("1", "01:00:03:00", "01:00:04:00", RATE_25)
    b = cue("2", "01:00:06:00", "01:00:07:00", RATE_25)
    feed = StageFeed([a, b], passes=1, preroll=2.0, postroll=1.0)
    run = run_feed(feed, [a, b], settings=settings_for(feed, preroll_seconds=2.0))
    starts, ends = run.of("pass_start"), run.of("pass_end")
    assert [e.cue for e in starts] == ["1", "2"]
    assert starts[1].sample == ends[0].sample
    assert ends[0].reason == "post-roll ended"
    assert_takes_exact(run, "1")
    assert_takes_exact(run, "2")
    # Cue 2's beeps at 01:00:03 and :04 fall inside cue 1's pass: they are not played late;
    # the one at 01:00:05:00 is, on the sample where cue 2's pass starts.
    beeps = [e for e in run.of("beep") if e.cue == "2"]
    assert [e.n for e in beeps] == [3]
    assert beeps[0].sample == starts[1].sample


@pytest.mark.parametrize("rate", [RATE_23976, RATE_25, RATE_2997DF])
@pytest.mark.parametrize("sample_rate", [44100, 48000, 96000])
def test_timecode_usable_within_two_frames_of_ltc_appearing(rate, sample_rate):
    """DESIGN.md 5: first usable timecode within two frames of LTC appearing. Measured in
    samples of audio processed (256-sample periods, as live), not in wall-clock time."""
    from stagerun import ListSink

    from stagebox.engine import Engine

    sep = ";" if rate.drop_frame else ":"
    c = cue("1", f"01:00:10{sep}00", f"01:00:11{sep}00", rate)
    feed = StageFeed([c], passes=1, preroll=2.0, sample_rate=sample_rate, lead_in=0.3)
    audio = feed.render_all()
    engine = Engine(settings_for(feed), sink=ListSink(), cues=[c], mode="safe")
    appeared = feed.passes[0].start
    period = float(rate.samples_per_frame(sample_rate))
    for pos in range(0, len(audio), 256):
        engine.process(audio[pos : pos + 256], pos)
        if engine.clock.locked:
            break
    assert (engine.position - appeared) / period < 2.0
    first = math.floor(feed.passes[0].frame_starts[0] + 0.5)
    assert str(engine.clock.timecode_at(first)) == str(feed.passes[0].first)


def test_decisions_do_not_hang_on_the_last_bit_of_a_frame_start():
    """Pass edges, lamps, beeps and punches are whole samples on rounded frame starts: a frame
    start decoded 1e-7 of a sample off must not move any of them."""

    from stagebox.clock import TimecodeClock
    from stagebox.ltc.encoder import LTCEncoder
    from stagebox.stage import Stage

    c = cue("2", "01:00:06:00", "01:00:07:00", RATE_25)
    enc = LTCEncoder(48000, RATE_25)
    enc.locate(Timecode.parse("01:00:01:00", RATE_25), at=24000)
    enc.render(24000 + 1920 * 160)
    frames = enc.emitted[:150]

    def decide(shift):
        clock = TimecodeClock(48000)
        stage = Stage(48000, StageSettings(preroll_seconds=2.0), cues=[c], mode="record")
        moved = [f._replace(start=f.start + shift, end=f.end + shift) for f in frames]
        out, i = [], 0
        for end in range(256, int(moved[-1].end), 256):
            ready = []
            while i < len(moved) and moved[i].end <= end:
                ready.append(moved[i])
                i += 1
            out += [
                (e.event, e.sample)
                for e in stage.update(clock, clock.feed(ready, end), end - 256, end)
            ]
        return out

    exact, nudged = decide(0.0), decide(1e-7)
    # LTC starts at 01:00:01:00 on sample 24000: TC-in 01:00:06:00 is 5 s later, minus 2 s.
    assert ("pass_start", 24000 + (5 - 2) * 48000) in exact
    assert nudged == exact


def test_cue_light_and_streamer_start_on_the_same_frame():
    """A streamer of 2.5 s at 25 fps is 62.5 frames: the display draws 63 (halves up), and
    the cue light comes on at the same frame (it once rounded to 62, a frame late)."""
    from stagebox.display.style import StreamerStyle
    from stagebox.display.timing import streamer_length_frames

    frames = streamer_length_frames(StreamerStyle(length_seconds=2.5), RATE_25)
    assert frames == 63
    c = cue("2", "01:00:10:00", "01:00:11:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=4.0)
    run = run_feed(feed, [c], settings=settings_for(feed, streamer_seconds=2.5))
    on = [e.sample for e in run.of("light") if e.name == "cue" and e.state]
    assert on == [feed.passes[0].tc_in_sample("2") - frames * 1920]


def test_new_stage_settings_apply_to_the_plans_and_the_beeps_at_once():
    """A reload (`Engine.apply_stage_settings`) mid-run: the pass window already planned on
    the clock's line is planned again, and the beeps sound at the new level and pitch."""
    import dataclasses

    from stagebox.beeps import Beep
    from stagebox.engine import Engine

    c = cue("3", "01:00:10:00", "01:00:11:00", RATE_25)
    feed = StageFeed([c], passes=1, preroll=4.0)
    settings = settings_for(feed, preroll_seconds=3.0)
    audio = feed.render_all()
    events = []
    engine = Engine(settings, sink=ListSink(), cues=[c], mode="rehearse", listeners=[events.append])
    half = 141 * 256  # 0.75 s: locked; the window (3 s of pre-roll) would begin at 1 s
    for pos in range(0, half, 256):
        engine.process(audio[pos : pos + 256], pos)
    assert not [e for e in events if e.event == "pass_start"]
    new = dataclasses.replace(
        settings.stage,
        preroll_seconds=1.0,
        beeps=dataclasses.replace(settings.stage.beeps, level_dbfs=-6.0, frequency_hz=2000.0),
    )
    engine.apply_stage_settings(new)
    for pos in range(half, len(audio), 256):
        engine.process(audio[pos : pos + 256], pos)
    start = [e.sample for e in events if e.event == "pass_start"]
    assert start == [feed.passes[0].tc_in_sample("3") - 25 * 1920]
    engine.beeps.plan(Beep(1, 0, 4800))
    tone = engine.beeps.render(0, 4800)
    assert abs(float(np.abs(tone).max()) - 10 ** (-6 / 20)) < 0.01
    crossings = np.count_nonzero(np.diff(np.signbit(tone[100:4700])))
    assert abs(crossings - 2 * 2000 * 4600 / 48000) <= 2


@pytest.mark.parametrize("sheet_first", [True, False])
def test_a_sheet_and_a_cue_asked_for_in_one_take_both_apply_when_it_closes(sheet_first):
    from stagebox.engine import Engine
    from stagebox.events import CUE, PUNCH_OUT

    c101 = cue("101", "01:00:10:00", "01:00:12:00", RATE_25)
    c102 = cue("102", "01:00:30:00", "01:00:31:00", RATE_25)
    reloaded = [Cue("101", c101.tc_in, c101.tc_out, "ANA", dialogue="new line"), c102]
    feed = StageFeed([c101], passes=1, preroll=1.0, postroll=0.5)
    audio = feed.render_all()
    sink = ListSink()
    events = []
    engine = Engine(settings_for(feed), sink=sink, cues=[c101, c102], mode="record")
    engine.listeners.append(events.append)
    asked = None
    for pos in range(0, len(audio), 256):
        if asked is None and engine.recorder.recording:
            asked = pos  # mid-take: both wait for the punch-out, neither is lost
            if sheet_first:
                assert engine.stage.set_cues(reloaded, pos) is False
            assert engine.stage.select_cue("102", pos) == c102
            if not sheet_first:
                assert engine.stage.set_cues(reloaded, pos) is False
            assert engine.stage.cue == c101 and engine.stage.cues == [c101, c102]
        engine.process(audio[pos : pos + 256], pos)
    engine.close()
    assert asked is not None
    [(take, recorded, _)] = sink.takes  # one pass, one take, whole
    truth = feed.passes[0]
    assert take.first_sample == truth.tc_in_sample("101")
    assert len(recorded) == truth.tc_out_sample("101") - truth.tc_in_sample("101")
    assert engine.stage.cues == reloaded  # the sheet applied
    # Cue 102 was selected once the take had closed (then the stage followed the LTC back).
    order = [(e.event, e.cue) for e in events if e.event in (CUE, PUNCH_OUT)]
    assert order[0] == (PUNCH_OUT, "101") and (CUE, "102") in order[1:3]


def test_a_cue_change_held_for_a_take_applies_when_the_audio_ends_mid_take():
    """The audio stops mid-take (service stop, feed end): the take closes there, and the cue
    the crew chose meanwhile is taken at once with no next period to carry it."""
    from stagebox.engine import Engine

    a = cue("1", "01:00:10:00", "01:00:14:00", RATE_25)
    b = cue("2", "01:00:20:00", "01:00:21:00", RATE_25)
    feed = StageFeed([a], passes=1, preroll=1.0)
    audio = feed.render_all()
    engine = Engine(settings_for(feed), sink=ListSink(), cues=[a, b], mode="record")
    stop_at = feed.passes[0].tc_in_sample("1") + 48000  # a second into the take
    for pos in range(0, stop_at, 256):
        engine.process(audio[pos : pos + 256], pos)
    assert engine.stage.take_open
    engine.stage.select_cue("2", engine.position)
    assert engine.stage.cue.number == "1" and engine.stage.deferred_changes == 1
    engine.close()  # the audio ended: the take closes at the newest sample
    engine.idle()  # the service's idle period
    assert engine.stage.cue.number == "2" and engine.stage.deferred_changes == 0


def test_the_daw_stopping_short_of_the_next_cue_does_not_walk_the_stage_into_it():
    """The DAW loops cue 1 and stops at the end of its post-roll, 14:05; cue 2's window opens
    at 14:06. The clock runs on a few frames past the last one decoded before it gives the LTC
    up, but no frame of cue 2's window ever played: no cue change to 2 and no pass of 2 (the
    crew would see cue 2 after every pass, and review would drop cue 1's take)."""
    a = cue("1", "01:00:10:00", "01:00:13:05", RATE_25)
    b = cue("2", "01:00:19:06", "01:00:22:00", RATE_25)  # window from 14:06 (5 s pre-roll)
    feed = StageFeed([a], passes=2, preroll=5.0, postroll=1.0, wrap="relocate")
    assert str(feed.loop_end) == "01:00:14:05"
    run = run_feed(feed, [a, b], settings=settings_for(feed, preroll_seconds=5.0))
    assert [e.cue for e in run.of("cue")] == []
    assert [e.cue for e in run.of("pass_start")] == ["1", "1"]
    assert [(t[0].cue, t[0].take) for t in run.takes] == [("1", 1), ("1", 2)]
    # ... while the LTC running on into cue 2's window does select it, its pass from the
    # window's first sample.
    feed = StageFeed([a], passes=1, preroll=5.0, postroll=1.4)
    run = run_feed(feed, [a, b], settings=settings_for(feed, preroll_seconds=5.0))
    assert [e.cue for e in run.of("cue")] == ["2"]
    first = feed.passes[0].first
    window = round(feed.passes[0].frame_starts[(b.tc_in - 125) - first])
    assert window == 467520  # 14:06: 231 frames of 1920 samples after the LTC's start at 24000
    assert [(e.cue, e.sample) for e in run.of("pass_start")][-1] == ("2", window)
