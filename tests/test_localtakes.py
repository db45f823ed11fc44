"""Room tone and wild lines: takes on a pass the stage plans from a sample, not from LTC.

Through the real service in simulation: `stagebox run` in a subprocess driven by the CLI
(tests/servicerun.py), and the service in-process where the test reads the simulated GPIO's
lamp history and the headphone output. The truth is the feed's own samples, the sample the
pass started on (its `pass_start` event: the command's period boundary), the configured beeps
and what is on disk; never what the service says about itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from servicerun import RunningService, StageDir, sim_stage, wait_for
from stagerun import ListSink

from stagebox.audio.wavout import write_pcm_wav
from stagebox.cues.cue import Cue
from stagebox.events import BEEP, PASS_START, PUNCH_IN, PUNCH_OUT, StageEvent
from stagebox.localtake import ROOMTONE, LocalRequest, roomtone_cue
from stagebox.takes.bwf import read_take_metadata
from stagebox.takes.log import TakeLog
from stagebox.timecode import RATE_25, Timecode
from stagebox.wavfile import read_wav

SR = 48000  # Hz
LEAD = 12000  # samples: the stage's look-ahead (0.25 s), where a local pass begins
SHEET = (
    "# rate: 25\nCue,Reel,Scene,Character,TC In,TC Out,Dialogue\n"
    "101,2,7,JOHN,01:00:10:00,01:00:16:00,Mary? Are you in there?\n"
)


def quiet_room(seconds: float, seed: int = 3) -> np.ndarray:
    """The stage with the DAW stopped: room noise on the mic (channel 0, on the 24-bit grid,
    so a take written at 24 bits holds exactly these samples), nothing on the LTC channel."""
    n = round(seconds * SR)
    audio = np.zeros((n, 2), dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0.0, 0.002, n)
    audio[:, 0] = np.round(noise * (1 << 23)) / (1 << 23)
    return audio


class ArrayFeed:
    """A feed for the in-process service (the interface `stagebox.sim` reads)."""

    def __init__(self, audio: np.ndarray) -> None:
        self.audio = audio
        self.sample_rate, self.channels = SR, audio.shape[1]
        self.mic_channel, self.ltc_channel = 0, 1
        self.length, self.position = len(audio), 0

    @property
    def remaining(self) -> int:
        return self.length - self.position

    def read(self, n: int) -> np.ndarray:
        block = self.audio[self.position : self.position + n]
        self.position += len(block)
        return block


def report_rows(svc: RunningService) -> list[dict]:
    return list(csv.DictReader(io.StringIO(svc.cli("report").stdout)))


def user_facts(path: Path) -> dict[str, str]:
    """The iXML USER lines of a take, KEY -> value."""
    user = read_take_metadata(path).ixml.get("USER", "")
    return dict(line.split(": ", 1) for line in user.splitlines() if ": " in line)


def quiet_stage(tmp_path: Path, seconds: float, **settings) -> StageDir:
    stage = StageDir(tmp_path)
    write_pcm_wav(stage.feed_path, [quiet_room(seconds)], SR, 2)
    sheet = tmp_path / "reel2.csv"
    sheet.write_text(SHEET)
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record", **settings)
    return stage


# -- through the CLI: the take, its report row, its iXML, the monitor ---------------------------


def test_roomtone_records_exactly_its_seconds_tagged_everywhere_and_stops_early(tmp_path):
    stage = quiet_stage(tmp_path, 30.0)
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s["audio"], 15, "audio")
        started = svc.cli("roomtone", "--seconds", "3").stdout
        status = svc.wait_until(lambda s: s["recording"] and s, 5, "room tone recording")
        monitor = svc.cli("monitor", "--once", "--width", "120", "--height", "40").stdout
        shown = svc.cli("status").stdout
        wild = svc.cli("wild", check=False)  # one local take at a time
        svc.wait_until(
            lambda s: not s["recording"] and (s["last_take"] or {}).get("state") == "complete",
            10,
            "the room tone to end",
        )
        # Room tone of another scene, stopped early by the same command.
        svc.cli("roomtone", "--scene", "9", "--seconds", "30")
        svc.wait_until(lambda s: s["recording"], 5, "the second room tone")
        time.sleep(1.0)
        stopped = svc.cli("roomtone").stdout
        svc.wait_until(
            lambda s: (
                (s["last_take"] or {}).get("cue") == "RT-R2-SC9"
                and s["last_take"]["state"] == "complete"
            ),
            10,
            "the second room tone logged",
        )
        rows = report_rows(svc)
        takes = svc.cli("takes").stdout
    assert (
        started.strip()
        == "room tone RT-R2-SC7 take 1: recording 3 s (stagebox roomtone again stops it)"
    )
    local = status["local"]
    assert local["kind"] == "roomtone" and local["title"] == "ROOM TONE, quiet please"
    assert re.fullmatch(r"0:0[1-3]", local["countdown"]) and 0 < local["seconds_left"] <= 3
    assert re.search(r"ROOM TONE, quiet please  0:0[1-3]", monitor)
    assert re.search(r"take       1 \(recording\), ROOM TONE, quiet please  0:0[1-3]", shown)
    assert wild.returncode == 2
    assert (
        wild.stderr.strip() == "stagebox: room tone is recording: stagebox roomtone stops it first"
    )
    assert stopped.startswith("room tone RT-R2-SC9 take 1: stopped after ")

    tone = stage.takes / "RT-R2-SC7_T001.wav"
    assert read_wav(tone).frames == 3 * SR  # exactly the seconds asked
    row = {r["cue"]: r for r in rows}["RT-R2-SC7"]
    assert (row["kind"], row["stamp"], row["state"]) == ("roomtone", "time of day", "complete")
    assert row["duration"] == "3.000" and row["file"] == tone.name
    assert row["line"] == "" and row["character"] == ""  # no line: the room
    assert "room tone" in row["note"] and "stamped with the time of day (no LTC)" in row["note"]
    facts = user_facts(tone)
    assert facts["TAKE_KIND"] == "roomtone" and facts["TIMESTAMP"] == "time of day"
    assert (facts["REEL"], facts["SCENE"]) == ("2", "7")
    meta = read_take_metadata(tone)
    assert meta.scene == "RT-R2-SC7" and "room tone" in meta.ixml["NOTE"]
    # Stamped with the time of day it was recorded at (the log's start time, to the second).
    log = TakeLog(stage.takes)
    started_at = dt.datetime.fromisoformat(log.get("RT-R2-SC7", 1).started)
    day = started_at.hour * 3600 + started_at.minute * 60 + started_at.second
    assert abs(meta.time_reference / SR - day) < 3 or abs(meta.time_reference / SR - day) > 86000

    early = {r["cue"]: r for r in rows}["RT-R2-SC9"]
    assert early["state"] == "complete" and early["kind"] == "roomtone"
    assert "stopped early after" in early["note"] and "of 30 s" in early["note"]
    frames = read_wav(stage.takes / early["file"]).frames
    assert 0.5 * SR < frames < 5 * SR and early["duration"] == f"{frames / SR:.3f}"
    assert "RT-R2-SC9" in takes and "stopped early" in takes
    # A folder whose log is lost: the takes are adopted from their iXML, kind and stamp too.
    from stagebox.takes.reconcile import reconcile

    (stage.takes / "takes.jsonl").unlink()
    adopted = TakeLog(stage.takes)
    reconcile(adopted, [])
    record = adopted.get("RT-R2-SC7", 1)
    assert (record.kind, record.stamp, record.frames) == ("roomtone", "time of day", 3 * SR)


def test_roomtone_and_wild_are_refused_in_a_record_fault(tmp_path):
    # A reserve no disk here has: takes cannot be written, a record fault.
    stage = quiet_stage(tmp_path, 20.0, takes__disk_reserve_mb=1_000_000)
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s.get("fault") and s["audio"], 15, "the record fault")
        tone = svc.cli("roomtone", check=False)
        wild = svc.cli("wild", check=False)
        scene = svc.cli("roomtone", "--scene", "../4", check=False)
        status = svc.call("status")
    assert tone.returncode == 2 and "room tone not recorded:" in tone.stderr
    assert "reserve" in tone.stderr
    assert wild.returncode == 2 and "wild line not recorded:" in wild.stderr
    assert scene.returncode == 2 and scene.stderr.startswith(
        "stagebox: roomtone: scene '../4' must be letters, digits"
    )
    assert not status["recording"] and status["local"] is None
    assert not list(stage.takes.glob("*.wav"))


def test_roomtone_is_refused_while_a_line_take_records(tmp_path):
    stage = StageDir(tmp_path)
    cue_101 = Cue(
        "101", Timecode.parse("01:00:10:00", RATE_25), Timecode.parse("01:00:16:00", RATE_25)
    )
    stage.write_feed([cue_101], passes=1, lead_in=1.5, preroll=1.0)
    sheet = tmp_path / "reel2.csv"
    sheet.write_text(SHEET)
    stage.write_config(stage__cue_sheet=str(sheet), stage__mode="record")
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s["recording"], 20, "the line take")
        tone = svc.cli("roomtone", check=False)
        wild = svc.cli("wild", check=False)
        svc.wait_until(lambda s: not s["audio"], 20, "the feed's end")
        rows = report_rows(svc)
    assert tone.returncode == 2
    assert "take 1 of cue 101 is recording: room tone waits until it closes" in tone.stderr
    assert wild.returncode == 2 and "is recording" in wild.stderr
    assert [(r["cue"], r["kind"], r["stamp"]) for r in rows] == [("101", "line", "LTC")]


# -- in-process: the record light's GPIO history, the headphones' beeps ------------------------


def run_service(tmp_path: Path, audio: np.ndarray, **settings):
    """The service in this process on `audio`, in real time; (service, thread, events)."""
    from stagebox.config import config_from_dict
    from stagebox.service import StageService

    sheet = tmp_path / "reel2.csv"
    sheet.write_text(SHEET)
    overrides = {
        "audio.backend": "sim",
        "audio.sim_realtime": True,  # lamps switch on the wall clock
        "stage.mode": "record",
        "stage.cue_sheet": str(sheet),
        **sim_stage(tmp_path),
        "phones.sidetone_modes": [],  # the headphones carry the beeps alone (their samples checked)
        **settings,
    }
    service = StageService(config_from_dict({}, overrides=overrides), feed=ArrayFeed(audio))
    events: list[StageEvent] = []
    service.add_listener(events.append)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    wait_for(lambda: service._audio_running, 10, "audio flowing")
    return service, thread, events


def test_roomtone_lights_the_record_light_for_exactly_its_span(tmp_path):
    from stagebox.panel.layout import status_lines

    audio = quiet_room(7.0)
    service, thread, events = run_service(tmp_path, audio)
    try:
        service.dispatch("roomtone", {"seconds": 3})
        snap = wait_for(
            lambda: service._latest if service._latest.recording else None, 2, "recording"
        )
        panel = status_lines(snap)
        wait_for(lambda: any(e.event == PUNCH_OUT for e in events), 6, "the punch-out")
        wait_for(lambda: not service.gpio.lit("record_light"), 1, "the record light off")
        service.book.flush()
        history = service.gpio.lamp_history("record_light")
    finally:
        service.stop()
        thread.join(5)
    start = next(e.sample for e in events if e.event == PASS_START)
    punch_in = next(e for e in events if e.event == PUNCH_IN)
    punch_out = next(e for e in events if e.event == PUNCH_OUT)
    assert punch_in.sample == start + LEAD  # the light is planned ahead to light on it
    assert punch_out.sample - punch_in.sample == 3 * SR == punch_out.frames
    # The lamp's history, by sample and by the wall clock: on for the take, and only then.
    assert [(s, on) for s, _, on in history] == [
        (None, False),
        (punch_in.sample, True),
        (punch_out.sample, False),
    ]
    assert history[2][1] - history[1][1] == pytest.approx(3.0, abs=0.15)  # a loaded machine
    # The take holds the room, sample for sample.
    take = read_wav(tmp_path / "takes" / punch_in.file)
    np.testing.assert_array_equal(take.samples[:, 0], audio[punch_in.sample : punch_out.sample, 0])
    # What the front panel and the actor's screen were given while it recorded.
    assert snap.local.title == "ROOM TONE, quiet please" and snap.cue.number == "RT-R2-SC7"
    assert snap.cue.dialogue == "ROOM TONE, quiet please"  # the screen's line
    assert re.fullmatch(r"ROOM TONE  0:0[1-3]", panel.message)


def test_wild_line_beeps_on_a_local_count_in_and_starts_where_tc_in_would_be(tmp_path):
    audio = quiet_room(9.0)
    service, thread, events = run_service(tmp_path, audio)
    try:
        answer = service.dispatch("wild", {"cue": "101", "seconds": 2})
        counting = wait_for(lambda: service._latest.local and service._latest, 1, "the count-in")
        wait_for(lambda: any(e.event == PUNCH_OUT for e in events), 9, "the wild take")
        service.book.flush()
        playback = service.backend.playback()[:, 0]
        base = service.backend.playback_start
        record = service.takelog.get("101", 1)
    finally:
        service.stop()
        thread.join(5)
    assert answer["state"] == "count-in" and answer["count_in"] == pytest.approx(3.25)
    from stagebox.panel.layout import status_lines

    # The actor's screen has the cue; the panel counts the beats in.
    assert counting.cue.number == "101" and counting.cue.dialogue == "Mary? Are you in there?"
    assert re.fullmatch(r"WILD  [1-3]", status_lines(counting).message)
    start = next(e.sample for e in events if e.event == PASS_START)
    spacing, length = SR, SR // 25  # the default beeps: 1 s apart, a frame (25 fps) long
    expected = [start + LEAD + k * spacing for k in range(3)]
    assert [e.sample for e in events if e.event == BEEP] == expected
    # In the headphones: nothing outside the beeps, and each is the configured tone (1 kHz at
    # -20 dBFS) in phase with its own first sample: a beep a sample off would not match.
    sounding = np.flatnonzero(np.abs(playback) > 1e-6) + base
    inside = np.zeros(len(sounding), dtype=bool)
    for at in expected:
        inside |= (sounding >= at) & (sounding < at + length)
        k = np.arange(100, length - 100)  # samples into the beep, clear of the 1 ms fades
        tone = 0.1 * np.sin(2 * np.pi * 1000 * k / SR)
        np.testing.assert_allclose(playback[at - base + k], tone, atol=1e-5)
        assert not playback[at - base - 200 : at - base].any()  # silent up to its sample
    assert inside.all() and len(sounding) > 3 * 0.9 * length
    # The take: where TC-in would be, one spacing after the last beep, 2 s long, the room.
    punch_in = next(e for e in events if e.event == PUNCH_IN)
    assert punch_in.sample == expected[-1] + spacing
    take = read_wav(tmp_path / "takes" / "101_T001.wav")
    assert take.frames == 2 * SR
    np.testing.assert_array_equal(
        take.samples[:, 0], audio[punch_in.sample : punch_in.sample + 2 * SR, 0]
    )
    assert (record.kind, record.stamp, record.state) == ("wild", "time of day", "complete")
    assert "wild line" in record.flags
    facts = user_facts(tmp_path / "takes" / "101_T001.wav")
    assert facts["TAKE_KIND"] == "wild" and facts["LINE"] == "Mary? Are you in there?"


def test_a_second_wild_press_during_the_count_in_cancels_it(tmp_path):
    from stagebox.events import PASS_END

    service, thread, events = run_service(tmp_path, quiet_room(5.0))
    try:
        service.submit("wild")  # the WILD button: the current cue's count-in
        wait_for(lambda: service.status()["local"], 2, "the count-in")
        time.sleep(0.5)
        service.submit("wild")  # pressed again before the take began
        wait_for(lambda: any(e.event == PASS_END for e in events), 2, "the pass to end")
        time.sleep(3.0)  # past where the take would have started
        local = service.status()["local"]
        playback = service.backend.playback()[:, 0]
        base = service.backend.playback_start
    finally:
        service.stop()
        thread.join(5)
    [end] = [e for e in events if e.event == PASS_END]
    assert end.reason == "cancelled during the count-in" and end.cue == "101"
    assert local is None and not any(e.event == PUNCH_IN for e in events)
    assert any(e.event == BEEP for e in events)  # the count-in had begun
    assert not playback[end.sample - base :].any()  # and nothing sounded once it was cancelled
    assert not list((tmp_path / "takes").glob("*.wav"))


# -- the engine: stamped with the LTC when it runs -----------------------------------------------


def test_roomtone_with_ltc_running_is_stamped_with_the_ltc_to_the_sample():
    from stagebox.engine import Engine, EngineSettings
    from stagebox.sim.stagefeed import StageFeed

    cue = Cue("101", Timecode.parse("01:00:20:00", RATE_25), Timecode.parse("01:00:21:00", RATE_25))
    # The DAW parked and playing 10 s before the cue: LTC runs, no cue window is entered.
    feed = StageFeed([cue], passes=1, preroll=10.0, postroll=0.5, lead_in=0.2)
    audio = feed.render_all()
    settings = EngineSettings(SR, feed.ltc_channel, (feed.mic_channel,))
    sink, events = ListSink(), []
    engine = Engine(settings, sink=sink, cues=[cue], mode="record", listeners=[events.append])
    pressed = 2 * SR  # samples: 1.8 s into the LTC, on a period boundary
    request = LocalRequest(
        ROOMTONE, roomtone_cue(cue, "", RATE_25), 2, day_seconds=0.0, rate=RATE_25
    )
    for pos in range(0, 5 * SR, 256):
        if pos == pressed:
            engine.stage.start_local(request, pos)
        engine.process(audio[pos : pos + 256], pos)
    [(take, recorded, note)] = sink.takes
    first = pressed + LEAD
    truth = feed.passes[0]
    label = truth.label_at(first)
    frame_start = math.floor(truth.frame_starts[label - truth.first] + 0.5)  # its whole sample
    expected = label.samples_since_midnight(SR) + first - frame_start
    assert take.first_sample == first and take.time_reference == expected
    assert dict(take.details)["TIMESTAMP"] == "LTC" and "stamped with LTC" in note
    assert len(recorded) == 2 * SR
    np.testing.assert_array_equal(recorded[:, 0], audio[first : first + 2 * SR, feed.mic_channel])


def test_roomtone_and_wild_buttons_added_to_the_pin_map_send_their_commands():
    from stagebox.gpio import sim
    from stagebox.gpio.buttons import Buttons
    from stagebox.gpio.pinmap import parse_pinmap

    # The default pin map with the two optional buttons on its free GPIOs (docs).
    extra = "".join(
        f'\n[[pin]]\nname = "{name}"\nbcm = {bcm}\nheader = {header}\nfunction = "button"\n'
        f'direction = "in"\nactive = "low"\npull = "up"\nlabel = "{label}"\n'
        for name, bcm, header, label in (
            ("roomtone", 23, 16, "ROOM TONE"),
            ("wild", 25, 22, "WILD"),
        )
    )
    text = (Path(__file__).parent.parent / "stagebox" / "data" / "pinmap.toml").read_text()
    clock = [100.0]
    backend = sim.Backend(clock=lambda: clock[0])
    sent: list[str] = []
    buttons = Buttons(backend, parse_pinmap(text + extra), sent.append, clock=lambda: clock[0])
    backend.press("roomtone", at=100.0)
    backend.release("roomtone", at=100.2)
    backend.press("wild", at=100.5)
    buttons.service(101.0)
    assert sent == ["roomtone", "wild"]


# -- the actor's screen ---------------------------------------------------------------------


def test_the_actors_screen_shows_the_local_countdown_and_no_streamer():
    pytest.importorskip("pygame", reason="pygame-ce is a declared test dependency")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from stagebox.display.renderer import StreamerRenderer, import_pygame
    from stagebox.display.style import StreamerStyle
    from stagebox.localtake import LocalView
    from stagebox.snapshot import ClockFit, StageSnapshot

    pg = import_pygame()
    pg.font.init()
    size = (640, 360)
    style = StreamerStyle(show_engineer_info=False)
    renderer = StreamerRenderer(size, style)
    surface = pg.Surface(size)
    cue = Cue("101", Timecode.parse("01:00:10:00", RATE_25), Timecode.parse("01:00:13:00", RATE_25))
    cue = Cue(cue.number, cue.tc_in, cue.tc_out, "JOHN", dialogue="Mary? Are you in there?")
    # A wild line's count-in: three beeps 1 s apart from sample 56000, the take at 200000 (the
    # DAW parked, its LTC running, so the screen could draw a streamer if it followed it).
    view = LocalView("wild", "WILD LINE", 44000, 200000, None, SR, SR)

    def frame(d: float, sample: int, local=view):
        snap = StageSnapshot(
            sample=sample,
            sample_rate=SR,
            mode="rehearse",
            lock="locked",
            clock=ClockFit(0.0, 0, 1920.0, RATE_25),
            cue=cue,
            local=local,
        )
        renderer.render(surface, cue.tc_in.frame_count + d, cue, snap, full=True)
        return pg.surfarray.array3d(surface)  # [x, y, rgb]

    # A line's pass: the streamer moves with the LTC. A local take: nothing follows the LTC.
    assert (frame(-20, 50000, None) != frame(-10, 50000, None)).any()
    np.testing.assert_array_equal(frame(-20, 50000), frame(-10, 50000))
    # The count-in's beats: "WILD 3" then "WILD 2", drawn where the countdown goes.
    assert view.countdown(200000 - 2.5 * SR) == "3" and view.countdown(200000 - 1.5 * SR) == "2"
    counting = LocalView("wild", "WILD LINE", 0, 12000 + 3 * SR, None, SR, SR)
    shown = [counting.countdown(s) for s in (0, 11999, 12000, 12000 + SR, 12000 + 2 * SR)]
    assert shown == ["3", "3", "3", "2", "1"]  # the lead before the first beep shows 3
    assert counting.countdown(12000 + 3 * SR + SR) == "+0:01"
    changed = np.flatnonzero(
        (frame(-20, round(200000 - 2.5 * SR)) != frame(-20, round(200000 - 1.5 * SR))).any(
            axis=(0, 2)
        )
    )
    lay = renderer.layout
    reach = round(style.countdown_size * size[1])  # pixels: the countdown text's height
    assert changed.size and lay.countdown_y - reach <= changed.min()
    assert changed.max() <= lay.countdown_y + reach


def test_control_arguments_of_roomtone_and_wild_are_checked():
    from stagebox.control.protocol import ControlError
    from stagebox.control.schema import check_args

    assert check_args("roomtone", {"seconds": 30, "scene": "4"}) == {"seconds": 30, "scene": "4"}
    for cmd, args, message in (
        ("roomtone", {"seconds": "30"}, "roomtone: 'seconds' must be a whole number, not '30'"),
        ("roomtone", {"seconds": 0}, "roomtone: 'seconds' must be 1 or more, not 0"),
        ("wild", {"seconds": 601}, "wild: 'seconds' must be 600 or less, not 601"),
        ("wild", {"scene": "4"}, "wild: unknown argument 'scene' (it takes: cue, seconds)"),
    ):
        with pytest.raises(ControlError) as err:
            check_args(cmd, args)
        assert str(err.value) == message


def test_a_wild_line_cancelled_in_its_count_in_names_no_take(tmp_path):
    """No take was made: the reply names the cue, not "take None" (nor a take number that the
    next wild line will be given again)."""
    stage = quiet_stage(tmp_path, 20.0)
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s["audio"], 15, "audio")
        started = svc.cli("wild", "--cue", "101").stdout
        cancelled = svc.cli("wild").stdout
        svc.stop()
    assert started.startswith("wild line 101 take 1: count-in 3.25 s")
    assert cancelled.strip() == "wild line 101: cancelled during the count-in: nothing recorded"
    assert not list(stage.takes.glob("*.wav"))


def test_a_refusal_is_shown_for_a_moment_then_gives_the_views_back(tmp_path, monkeypatch):
    """A refused WILD is on status, the monitor and the panel at once, and gone again after
    NOTICE_SECONDS: left up it covered the takes and verdicts after it for minutes."""
    from stagebox.control.protocol import ControlError
    from stagebox.service import status as service_status

    monkeypatch.setattr(service_status, "NOTICE_SECONDS", 1.0)
    service, thread, _ = run_service(tmp_path, quiet_room(12.0))
    try:
        service.dispatch("roomtone", {"seconds": 8})
        with pytest.raises(ControlError, match="room tone"):
            service.dispatch("wild", {"cue": "101"})
        shown = wait_for(
            lambda: "wild line refused" in service._latest.message and service._latest, 2, "it"
        )
        gone = wait_for(
            lambda: "wild line refused" not in service._latest.message and service._latest,
            5,
            "the refusal to clear",
        )
    finally:
        service.stop()
        thread.join(5)
    assert shown.local is not None and gone.local is not None  # the room tone ran throughout
