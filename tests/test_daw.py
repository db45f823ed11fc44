"""The DAW from the crew's buttons: the MIDI output backends, the behaviour, and the service.

Expected MMC bytes are written out by hand (formats cited in tests/test_daw_mmc.py):
LOCATE [TARGET] is `F0 7F <id> 06 44 06 01 hr mn sc fr ff F7` with hr = 0 tt hhhhh
(tt: 24 = 00, 25 = 01, 30 DF = 10, 30 = 11), STOP `.. 06 01 F7`, PLAY `.. 06 02 F7`,
DEFERRED PLAY `.. 06 03 F7`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from servicerun import RunningService, StageDir, cue, feed_inputs, sim_stage, write_sheet

from stagebox import events as ev
from stagebox.cues.cue import Cue
from stagebox.daw import backend as midi
from stagebox.daw.alsa import choose_port
from stagebox.daw.control import DawControl, DawSettings
from stagebox.daw.rawmidi import device_path
from stagebox.daw.sim import Backend as SimOutput
from stagebox.events import StageEvent
from stagebox.timecode import RATE_25, RATE_2997DF, Timecode

STOP = bytes.fromhex("F0 7F 7F 06 01 F7")
PLAY = bytes.fromhex("F0 7F 7F 06 02 F7")
DEFERRED_PLAY = bytes.fromhex("F0 7F 7F 06 03 F7")

CUE_101 = cue("101", "01:00:10:00", "01:00:11:00")
CUE_102 = cue("102", "01:00:20:00", "01:00:21:00", "MARY")


def locate_25(hours: int, minutes: int, seconds: int, frames: int) -> bytes:
    """LOCATE at 25 fps, built by hand: tt = 01 in the hours byte."""
    return bytes(
        [0xF0, 0x7F, 0x7F, 0x06, 0x44, 0x06, 0x01, 0x20 | hours, minutes, seconds, frames, 0, 0xF7]
    )


# -- the backends -----------------------------------------------------------------------------


def test_unknown_backend_is_refused_with_the_list():
    with pytest.raises(midi.MidiError, match="unknown MIDI backend 'usb'.*alsa, rawmidi, sim"):
        midi.open_output("usb")


def test_sim_backend_keeps_each_message_with_its_time():
    times = iter([1.0, 2.5])
    out = SimOutput(clock=lambda: next(times))
    out.send(STOP)
    out.send(PLAY)
    assert out.sent == [(1.0, STOP), (2.5, PLAY)]
    out.close()
    with pytest.raises(midi.MidiError, match="closed"):
        out.send(STOP)


def test_rawmidi_writes_whole_messages_to_the_device_file(tmp_path):
    # A regular file stands in for /dev/snd/midiC1D0: the backend writes it the same way.
    device = tmp_path / "midiC9D0"
    device.write_bytes(b"")
    out = midi.open_output("rawmidi", str(device))
    out.send(locate_25(1, 0, 2, 0))
    out.send(DEFERRED_PLAY)
    out.close()
    assert device.read_bytes() == locate_25(1, 0, 2, 0) + DEFERRED_PLAY
    with pytest.raises(midi.MidiError, match="closed"):
        out.send(STOP)


def test_rawmidi_port_names():
    assert device_path("hw:1,0") == Path("/dev/snd/midiC1D0")
    assert device_path("hw:2") == Path("/dev/snd/midiC2D0")
    assert device_path("/dev/snd/midiC0D1") == Path("/dev/snd/midiC0D1")
    with pytest.raises(midi.MidiError, match="needs a port"):
        device_path(" ")


def test_rawmidi_missing_device_names_it(tmp_path):
    with pytest.raises(midi.MidiError, match=r"midiC7D0: No such file or directory"):
        midi.open_output("rawmidi", str(tmp_path / "midiC7D0"))


PORTS = [
    "Midi Through:Midi Through Port-0 14:0",
    "UM-ONE:UM-ONE MIDI 1 24:0",
    "rtpmidid:Studio 128:1",
]


@pytest.mark.parametrize(
    "wanted, index",
    [("um-one", 1), ("rtpmidid", 2), ("Studio", 2), ("2", 2), ("0", 0)],
)
def test_alsa_port_chosen_by_part_of_its_name_or_number(wanted, index):
    assert choose_port(PORTS, wanted) == index


def test_alsa_port_never_guessed():
    with pytest.raises(midi.MidiError, match="no MIDI port named like 'Pro Tools'.*1: UM-ONE"):
        choose_port(PORTS, "Pro Tools")
    with pytest.raises(midi.MidiError, match="2 MIDI ports named like 'm'"):
        choose_port(["UM-ONE", "rtpmidid"], "m")
    with pytest.raises(midi.MidiError, match="daw.port is empty and there are 2 MIDI ports"):
        choose_port(PORTS, "")
    assert choose_port(PORTS[:2], "") == 1  # the only one besides Midi Through
    with pytest.raises(midi.MidiError, match="no MIDI port number 5"):
        choose_port(PORTS, "5")


@pytest.mark.skipif(
    not os.path.exists("/dev/snd/seq"),
    reason="no ALSA sequencer on this machine (/dev/snd/seq missing: the snd-seq module is "
    "not loaded, as in containers), so no virtual MIDI port to send to",
)
def test_alsa_backend_through_a_virtual_midi_port():
    rtmidi = pytest.importorskip("rtmidi")
    listener = rtmidi.MidiIn(rtmidi.API_LINUX_ALSA, name="stagebox-test")
    listener.ignore_types(sysex=False)
    listener.open_virtual_port("stagebox test DAW")
    try:
        out = midi.open_output("alsa", "stagebox test DAW")
        try:
            out.send(locate_25(1, 0, 2, 0))
            out.send(PLAY)
        finally:
            out.close()
        import time

        received: list[bytes] = []
        deadline = time.monotonic() + 2.0
        while len(received) < 2 and time.monotonic() < deadline:
            message = listener.get_message()
            if message:
                received.append(bytes(message[0]))
            else:
                time.sleep(0.01)
        assert received == [locate_25(1, 0, 2, 0), PLAY]
    finally:
        listener.close_port()
        listener.delete()


# -- the behaviour ----------------------------------------------------------------------------


def make(settings: DawSettings | None = None, *, cues=(CUE_101, CUE_102), preroll=2.0, mode="safe"):
    out = SimOutput()
    by_number = {c.number: c for c in cues}
    daw = DawControl(
        out.reopen,
        settings or DawSettings(),
        mode=mode,
        stage_preroll=lambda: preroll,
        find_cue=by_number.get,
    ).start()
    return daw, out


def settle(daw: DawControl, out: SimOutput, count: int) -> list[bytes]:
    messages = out.wait_for(count)
    daw.stop()
    return messages


def test_choosing_a_cue_locates_to_its_preroll():
    daw, out = make(preroll=2.0)
    daw.cue_chosen(CUE_102)
    # 01:00:20:00 minus 2 s at 25 fps
    assert settle(daw, out, 1) == [locate_25(1, 0, 18, 0)]


def test_daw_preroll_overrides_the_stages():
    daw, out = make(DawSettings(preroll_seconds=6.5), preroll=2.0)
    daw.cue_chosen(CUE_101)
    # 01:00:10:00 minus 6.5 s = 162.5 frames, rounded half to even as the stage rounds: 162
    assert settle(daw, out, 1) == [locate_25(1, 0, 3, 13)]


def test_preroll_across_a_drop_frame_minute():
    cue_df = Cue(
        "7",
        Timecode.parse("01:01:00;04", RATE_2997DF),
        Timecode.parse("01:01:02;00", RATE_2997DF),
        "JOHN",
    )
    daw, out = make(cues=(cue_df,), preroll=5.0)
    daw.cue_chosen(cue_df)
    # 150 frames back from 01:01:00;04: ;03, ;02, then 00:59;29 (;00 and ;01 do not exist),
    # then 147 more = 4 s 27 f back to 01:00:55;02 (55 = 0x37). hr = 0 10 00001 = 0x41 (30 DF).
    assert settle(daw, out, 1) == [bytes.fromhex("F0 7F 7F 06 44 06 01 41 00 37 02 00 F7")]


def test_a_burst_of_cue_changes_locates_only_to_the_last():
    # NEXT held down: 101, 102, 101 chosen before the sender got to them; the roll after
    # them is not a park and still goes out, after the last park.
    out = SimOutput()
    daw = DawControl(out.reopen, DawSettings(), stage_preroll=lambda: 2.0)
    daw.cue_chosen(CUE_101)
    daw.cue_chosen(CUE_102)
    daw.cue_chosen(CUE_101)
    daw.mode_chosen("rehearse", CUE_101, rolling=False)
    daw.start()
    assert settle(daw, out, 3) == [locate_25(1, 0, 8, 0), locate_25(1, 0, 8, 0), DEFERRED_PLAY]
    assert len(out.messages()) == 3


def test_a_cue_chosen_mid_take_locates_when_the_take_closes():
    daw, out = make()
    daw.cue_chosen(CUE_102, deferred=True)
    daw.on_event(ev.CueChange(sample=100, timecode="01:00:11:00", cue="101"))  # not the one chosen
    daw.on_event(ev.CueChange(sample=200, cue="102"))  # the take closed: it applies
    daw.on_event(ev.CueChange(sample=300, cue="102"))  # once only
    assert settle(daw, out, 1) == [locate_25(1, 0, 18, 0)]
    assert out.messages() == [locate_25(1, 0, 18, 0)]


def test_a_cue_followed_from_timecode_never_moves_the_daw():
    daw, out = make()
    daw.on_event(ev.CueChange(sample=100, timecode="01:00:08:00", cue="101"))
    daw.cue_chosen(CUE_102)  # a later message proves the queue ran past the event
    assert settle(daw, out, 1) == [locate_25(1, 0, 18, 0)]


def test_record_and_rehearse_roll_a_stopped_daw_from_the_preroll():
    daw, out = make()
    daw.mode_chosen("record", CUE_101, rolling=False)
    daw.mode_chosen("rehearse", CUE_102, rolling=False)
    assert settle(daw, out, 4) == [
        locate_25(1, 0, 8, 0),
        DEFERRED_PLAY,
        locate_25(1, 0, 18, 0),
        DEFERRED_PLAY,
    ]


def test_record_while_rolling_sends_nothing_and_safe_stops():
    daw, out = make()
    daw.mode_chosen("record", CUE_101, rolling=True)
    daw.mode_chosen("safe", CUE_101, rolling=True)
    assert settle(daw, out, 1) == [STOP]
    assert out.messages() == [STOP]


def test_without_roll_on_record_modes_only_stop():
    daw, out = make(DawSettings(roll_on_record=False))
    daw.mode_chosen("record", CUE_101, rolling=False)
    daw.mode_chosen("safe", CUE_101, rolling=False)
    assert settle(daw, out, 1) == [STOP]
    assert out.messages() == [STOP]


def postroll_end(number: str = "101") -> StageEvent:
    return ev.PassEnd(sample=500, cue=number, reason="post-roll ended")


def test_loop_locates_back_and_rolls_again_after_the_postroll():
    daw, out = make(DawSettings(loop=True), mode="rehearse")
    daw.on_event(ev.PassEnd(sample=400, cue="101", reason="loop wrap"))
    daw.on_event(postroll_end())
    assert settle(daw, out, 2) == [locate_25(1, 0, 8, 0), DEFERRED_PLAY]


def test_stop_after_postroll_stops_and_parks():
    daw, out = make(DawSettings(stop_after_postroll=True), mode="record")
    daw.on_event(postroll_end())
    assert settle(daw, out, 2) == [STOP, locate_25(1, 0, 8, 0)]


def test_nothing_after_the_postroll_in_safe_mode_or_by_default():
    daw, out = make(DawSettings(loop=True), mode="record")
    daw.on_event(ev.ModeChange(sample=10, mode="safe"))
    daw.on_event(postroll_end())
    quiet, quiet_out = make(mode="record")
    quiet.on_event(postroll_end())
    quiet.mode_chosen("safe", None, rolling=False)
    daw.mode_chosen("safe", None, rolling=False)
    assert settle(daw, out, 1) == [STOP]
    assert settle(quiet, quiet_out, 1) == [STOP]


def test_a_missing_port_is_logged_and_tried_again(caplog):
    out = SimOutput()
    out.fail_with = "device unplugged"
    daw = DawControl(out.reopen, DawSettings(), stage_preroll=lambda: 2.0).start()
    with caplog.at_level(logging.ERROR, "stagebox.daw"):
        with pytest.raises(ValueError, match="device unplugged"):
            daw.request({"action": "play"}, RATE_25)
        with pytest.raises(ValueError, match="device unplugged"):
            daw.request({"action": "stop"}, RATE_25)
    assert daw.status()["error"] == "MIDI port sim: device unplugged"
    assert len([r for r in caplog.records if "device unplugged" in r.message]) == 1  # once
    out.fail_with = None  # plugged back in
    assert daw.request({"action": "stop"}, RATE_25) == {"port": "sim", "sent": ["STOP"]}
    assert daw.status()["error"] == ""
    daw.stop()
    assert out.messages() == [STOP]


def test_requests_locate_to_a_timecode_or_a_cue():
    daw, out = make(preroll=2.0)
    assert daw.request({"action": "locate", "to": "01:00:30:05"}, RATE_25)["sent"] == [
        "LOCATE 01:00:30:05 (25 fps)"
    ]
    daw.request({"action": "locate", "to": "102"}, RATE_25)
    daw.request({"action": "play"}, RATE_25)
    assert settle(daw, out, 3) == [locate_25(1, 0, 30, 5), locate_25(1, 0, 18, 0), PLAY]


@pytest.mark.parametrize(
    "args, rate, error",
    [
        ({"action": "locate", "to": "999"}, RATE_25, "'999' is neither a cue in the sheet"),
        ({"action": "locate", "to": "01:00:61:00"}, RATE_25, "seconds 61 out of range"),
        ({"action": "locate", "to": "01:00:00:00"}, None, "no timecode rate"),
        ({"action": "locate"}, RATE_25, "locate where?"),
        ({"action": "rewind"}, RATE_25, "unknown DAW action 'rewind'"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(args, rate, error):
    daw, out = make()
    try:
        with pytest.raises(ValueError, match=error):
            daw.request(args, rate)
    finally:
        daw.stop()
    assert out.messages() == []


# -- the service, end to end ------------------------------------------------------------------


def test_the_running_service_drives_the_daw_over_raw_midi(stage_dir):
    stage = stage_dir
    device = stage.root / "midiC9D0"  # stands in for the USB MIDI interface's rawmidi device
    device.write_bytes(b"")
    stage.write_feed([CUE_101], passes=1)
    sheet = write_sheet(stage.root / "reel1.csv", [CUE_101, CUE_102])
    stage.write_config(
        realtime=False,
        stage__cue_sheet=str(sheet),
        stage__preroll_seconds=3.0,
        daw__enabled=True,
        daw__backend="rawmidi",
        daw__port=str(device),
    )
    with RunningService(stage) as svc:
        svc.wait_until(lambda s: s.get("message") == "audio feed ended" or None, 20, "the feed")
        svc.cli("cue", "102")  # as the NEXT button does: park the DAW at 102's pre-roll
        svc.cli("mode", "rehearse")  # no LTC runs: roll from the pre-roll
        svc.cli("mode", "safe")
        out = svc.cli("daw", "locate", "01:02:03:04").stdout
        assert out.strip() == f"sent LOCATE 01:02:03:04 (25 fps) to {device}"
        svc.cli("daw", "play")
        svc.cli("daw", "stop")
        refused = svc.cli("daw", "locate", "999", check=False)
        status = json.loads(svc.cli("daw", "status", "--json").stdout)
        assert svc.stop() == 0
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "stagebox: '999' is neither a cue in the sheet nor a timecode HH:MM:SS:FF"
    )
    assert device.read_bytes() == b"".join(
        [
            locate_25(1, 0, 17, 0),  # cue 102: 01:00:20:00 minus 3 s
            locate_25(1, 0, 17, 0),  # rehearse: back to the pre-roll ...
            DEFERRED_PLAY,  # ... and roll once there
            STOP,  # safe
            locate_25(1, 2, 3, 4),
            PLAY,
            STOP,
        ]
    )
    assert status["port"] == str(device) and status["error"] == ""
    assert [s["message"] for s in status["sent"]][-3:] == [
        "LOCATE 01:02:03:04 (25 fps)",
        "PLAY",
        "STOP",
    ]


def test_daw_commands_say_so_when_daw_control_is_off(stage_dir):
    stage = stage_dir
    stage.write_feed([CUE_101], passes=1)
    stage.write_config(realtime=False)
    with RunningService(stage) as svc:
        svc.wait_ready()
        result = svc.cli("daw", "play", check=False)
        svc.stop()
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "stagebox: DAW control is off: set [daw] enabled = true (docs/daw.md)"
    )


@pytest.fixture
def stage_dir(tmp_path):
    return StageDir(tmp_path)


def test_config_check_refuses_a_rawmidi_backend_without_a_device_and_a_short_preroll(tmp_path):
    from stagebox.config import ConfigError, load_config

    path = tmp_path / "stagebox.toml"
    path.write_text(
        '[daw]\nenabled = true\nbackend = "rawmidi"\npreroll_seconds = 2.0\n'
        "\n[beeps]\nenabled = true\ncount = 3\nspacing_seconds = 1.0\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "daw.port" in text and "the rawmidi backend needs the device" in text
    assert "daw.preroll_seconds" in text and "the actor would miss beeps" in text
    path.write_text('[daw]\npreroll_seconds = "later"\n')
    with pytest.raises(ConfigError, match='"later" is not "stage" or a number'):
        load_config(path)
    path.write_text('[daw]\npreroll_seconds = "stage"\ndevice_id = 5\n')
    cfg = load_config(path)
    assert (cfg.daw.preroll_seconds, cfg.daw.device_id) == (None, 5)


def test_next_cue_button_mid_take_locates_the_daw_when_the_take_closes(tmp_path):
    """In process, to reach the simulated GPIO and MIDI port: the crew presses NEXT while a
    take records (and chooses the recorded cue again); the stage keeps the take, and the DAW
    is parked at cue 102's pre-roll only once it has closed."""
    import queue
    import time

    from stagebox.config import config_from_dict
    from stagebox.service import StageService
    from stagebox.sim.stagefeed import StageFeed

    sheet = write_sheet(tmp_path / "reel1.csv", [CUE_101, CUE_102])
    feed = StageFeed([CUE_101], passes=1, preroll=1.0, postroll=0.5, lead_in=0.3, tail=0.3)
    cfg = config_from_dict(
        {},
        overrides={
            **feed_inputs(feed),
            "stage.mode": "record",
            "stage.cue_sheet": str(sheet),
            "stage.preroll_seconds": 3.0,
            **sim_stage(tmp_path),
            "buttons.enabled": True,
            "buttons.debounce_ms": 5,
            "daw.enabled": True,
            "daw.backend": "sim",
        },
    )
    service = StageService(cfg, feed=feed, stop_at_end=True)
    seen: dict[str, float] = {}
    submitted: queue.Queue[str] = queue.Queue()
    failures: list[str] = []

    events: list = []

    def crew(event) -> None:
        seen.setdefault(event.event, time.monotonic())
        events.append(event)
        if event.event != ev.PUNCH_IN:
            return
        send = service.buttons.submit
        service.buttons.submit = lambda command: (send(command), submitted.put(command))
        service.submit("cue 101")  # the cue being recorded, chosen again: no locate
        service.gpio.press("next_cue")
        time.sleep(0.05)
        service.gpio.release("next_cue")
        try:
            assert submitted.get(timeout=3) == "cue next"
        except (AssertionError, queue.Empty) as exc:  # the audio thread must not die of it
            failures.append(repr(exc))

    service.add_listener(crew)
    assert service.run() == 0
    assert failures == []
    sent = service.daw.opener().sent  # the simulated port, history kept after the stop
    assert [m for _, m in sent] == [locate_25(1, 0, 17, 0)]  # 01:00:20:00 minus 3 s
    assert sent[0][0] >= seen[ev.PUNCH_OUT]  # not before the take closed
    # The stage took cue 102 once the take had closed (after that it follows the LTC, which
    # the simulated DAW does not move: a real one, located to 102's pre-roll, would).
    kinds = [(e.event, getattr(e, "cue", None)) for e in events]
    assert kinds.index((ev.CUE, "102")) > kinds.index((ev.PUNCH_OUT, "101"))


# -- stagebox doctor --------------------------------------------------------------------------


def test_doctor_checks_the_daw_port(tmp_path):
    from stagebox.config import config_from_dict
    from stagebox.doctor.context import Context
    from stagebox.doctor.daw import check_daw
    from stagebox.doctor.report import FAIL, PASS, SKIP

    def ctx(**settings) -> Context:
        cfg = config_from_dict({}, overrides={"takes.folder": str(tmp_path), **settings})
        return Context(cfg)

    assert check_daw(ctx()).status == SKIP
    device = tmp_path / "midiC1D0"
    device.write_bytes(b"")
    on = {"daw.enabled": True, "daw.backend": "rawmidi", "daw.port": str(device)}
    result = check_daw(ctx(**on))
    assert (result.status, result.detail) == (PASS, f"MIDI port {device} opens (device id 127)")
    device.unlink()
    result = check_daw(ctx(**on))
    assert result.status == FAIL and "No such file or directory" in result.detail
    assert "amidi -l" in result.fix
    # The running service holds the port: asked, not opened a second time.
    status = {"port": "UM-ONE", "connected": True, "error": ""}
    result = check_daw(Context(ctx(**on).cfg, service=lambda cmd, **args: status))
    assert result.status == PASS and "the running service sends MMC to UM-ONE" in result.detail
    status = {"port": "UM-ONE", "connected": False, "error": "MIDI port UM-ONE: gone"}
    result = check_daw(Context(ctx(**on).cfg, service=lambda cmd, **args: status))
    assert result.status == FAIL and result.detail == "the running service: MIDI port UM-ONE: gone"
