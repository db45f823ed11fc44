"""`stagebox phones` against the running service: the matrix printed, levels and switches set
live over the control socket, refusals as one line (exit 2)."""

from __future__ import annotations

import json

import pytest
from servicerun import RunningService, StageDir, cue

from stagebox.cli import CLIError
from stagebox.cli.phones import request_for

CUE_101 = cue("101", "01:00:10:00", "01:00:11:00")


def test_phones_shows_and_sets_the_mix_on_the_running_stage(tmp_path):
    stage = StageDir(tmp_path)
    stage.write_feed([CUE_101], passes=1)
    stage.write_config(stage__mode="rehearse", phones__talkback_dim_db=-15.0)
    with RunningService(stage) as svc:
        svc.wait_ready(timeout=30)  # a loaded machine starts slowly
        lines = svc.cli("phones").stdout.splitlines()
        head = lines[0].split()
        assert head[:7] == ["source", "level", "safe", "rehearse*", "record", "review", "from"]
        rows = {line.split()[0]: line.split() for line in lines[1:6]}
        assert rows["beeps"][1:8] == ["0.0", "dB", "-", "on", "on", "on", "stage"]
        assert rows["guide"][1:10] == ["-6.0", "dB", "-", "on", "-", "-", "not", "wired", "-inf"]
        assert rows["sidetone"][1:8] == ["-6.0", "dB", "-", "on", "on", "-", "in"]
        assert rows["sidetone"][8] == "1"  # the mic channel
        assert rows["talkback"][3:7] == ["held"] * 4
        assert rows["review"][3:7] == ["-", "-", "-", "on"]
        assert "talkback off, dims the others by 15 dB" in lines[-1]

        out = svc.cli("phones", "sidetone", "-3").stdout
        assert "sidetone   -3.0 dB" in out
        assert svc.call("phones")["levels_db"]["sidetone"] == -3.0

        svc.cli("phones", "beeps", "off")  # in the stage's mode (rehearse)
        svc.cli("phones", "guide", "on", "--mode", "record")
        svc.cli("phones", "dim", "-30")
        state = json.loads(svc.cli("phones", "--json").stdout)
        assert state["modes"]["beeps"] == ["record", "review"]
        assert state["modes"]["guide"] == ["rehearse", "record"]
        assert state["talkback_dim_db"] == -30.0
        assert set(state["meters_dbfs"]) == {
            "beeps", "guide", "sidetone", "talkback", "review", "phones"
        }  # fmt: skip

        for args, message in (
            (("talkback", "on"), "no talkback wired: set phones.talkback_channel"),
            (("guide", "loud"), "'loud' is not a level in dB"),
            (("guide", "20"), "'level_db' must be 12 or less, not 20"),
            (("talkback", "on", "--mode", "record"), "--mode does not apply"),
            (("guide", "-6", "--mode", "record"), "--mode goes with on or off"),
        ):
            bad = svc.cli("phones", *args, check=False)
            assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)
            assert "Traceback" not in bad.stderr

        assert any(
            line.startswith("phones     out ") and line.endswith("talkback off")
            for line in svc.cli("status").stdout.splitlines()
        )
        status = json.loads(svc.cli("status", "--json").stdout)
        assert status["phones"]["talkback_live"] is False
        assert "phones" in status["phones"]["meters_dbfs"]
        assert svc.stop() == 0
    assert "Traceback" not in svc.log


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("guide", "-6", None), {"source": "guide", "level_db": -6.0}),
        (("guide", "-6dB", None), {"source": "guide", "level_db": -6.0}),
        (("guide", "+3.5", None), {"source": "guide", "level_db": 3.5}),
        (("guide", "OFF", None), {"source": "guide", "on": False}),
        (("sidetone", "on", "record"), {"source": "sidetone", "on": True, "mode": "record"}),
        (("talkback", "on", None), {"source": "talkback", "on": True}),
        (("dim", "-15", None), {"dim_db": -15.0}),
    ],
)
def test_the_command_line_becomes_one_request(argv, expected):
    assert request_for(*argv) == expected


@pytest.mark.parametrize("value", ["nan", "inf", "-", "6 dB louder", ""])
def test_a_level_that_is_not_a_number_is_refused(value):
    with pytest.raises(CLIError, match="is not a level in dB"):
        request_for("guide", value, None)


def test_stagebox_phones_imports_nothing_heavy(tmp_path):
    """Like the other commands that ask the service (tests/test_cli_imports.py): no numpy,
    no engine, no config, though the mixer's answer is the real one."""
    from stagebox.control.server import ControlServer
    from stagebox.phones.matrix import PhonesSettings
    from stagebox.phones.mixer import PhoneMixer
    from tests.test_cli_imports import run_probe

    mixer = PhoneMixer(48000, PhonesSettings(guide_channel=2))
    asked = []

    def dispatch(cmd: str, args: dict):
        asked.append((cmd, args))
        return mixer.state()

    class Stage:
        socket = str(tmp_path / "control.sock")

    server = ControlServer(Stage.socket, dispatch, group=None)
    server.start()
    try:
        out, heavy = run_probe(Stage(), "phones")
        assert "guide      -6.0 dB" in out and "in 3" in out
        assert heavy == [], heavy
        out, heavy = run_probe(Stage(), "phones", "guide", "-4.5")
        assert heavy == [] and asked[-1] == ("phones.set", {"source": "guide", "level_db": -4.5})
    finally:
        server.stop()
