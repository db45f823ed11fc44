"""Commands that only talk to the service answer at once: they import nothing heavy.

Each command runs in a fresh interpreter against a real ControlServer (the stand-in stage of
tests/control_fake.py), so `sys.modules` shows exactly what the command pulled in. numpy alone
costs 0.1-2 s on a busy Pi; the take path, the LTC code and the cue sheet importers are not
needed to ask the service a question either. (How fast: bench/cli_latency.py.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stagebox.cli import COMMANDS, main
from stagebox.control.server import ControlServer
from tests.control_fake import EXAMPLE_SHEET, FakeStage

ROOT = Path(__file__).resolve().parent.parent

# Modules a command that only asks the service must not import.
HEAVY = (
    "numpy",
    "scipy",
    "pygame",
    "stagebox.ltc",
    "stagebox.engine",
    "stagebox.takes.bwf",
    "stagebox.wavfile",
    "stagebox.cues.loader",
    "stagebox.config",
    "stagebox.gpio",
)

# Run `main(argv)` in a fresh interpreter, then print the heavy modules it imported (if any)
# on a last line of its own.
PROBE = """
import sys
from stagebox.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
heavy = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
print("HEAVY:" + ",".join(heavy))
sys.exit(code)
"""


@pytest.fixture
def stage(tmp_path):
    fake = FakeStage(tmp_path / "takes")
    path = str(tmp_path / "control.sock")
    server = ControlServer(path, fake)
    server.start()
    fake.socket = path
    yield fake
    server.stop()
    fake.log.close()


def run_probe(stage, *argv: str) -> tuple[str, list[str]]:
    """(what the command printed, the heavy modules it imported)."""
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    r = subprocess.run(
        [sys.executable, "-c", code, *argv, "--socket", stage.socket],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    out, _, last = r.stdout.rstrip("\n").rpartition("\n")
    assert last.startswith("HEAVY:"), r.stdout
    return out, [m for m in last[len("HEAVY:") :].split(",") if m]


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (["status"], "cue        101  JOHN  01:00:10:00-01:00:13:05 (3.2s)"),
        (["status", "--json"], '"timecode": "01:00:11:07"'),
        (["cue", "next"], "cue 102  MARY"),
        (["cue", "101"], "cue 101  JOHN"),
        (["mode", "record"], "mode: record"),
        (["takes"], "101     2"),
        (["take", "circle", "101", "2"], "101 take 2: circled"),
        (["take", "note", "101", "1", "late start"], "101 take 1: not circled, note: late start"),
        (["report"], "cue,take"),
        (["cues", "list"], "106  01:01:12:04  01:01:15:00"),
        (["cues", "load", EXAMPLE_SHEET], "cues loaded at 25 fps"),
        (["monitor", "--once", "--width", "80", "--height", "24"], "101"),
        (["lights", "test"], "the service cycles its lamps"),
        (["roomtone", "--seconds", "5"], "room tone RT-R1-SC4 take 1: recording 5 s"),
        (["wild", "--cue", "101"], "wild line 101 take 3: count-in 3.25 s, then recording"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_commands_that_ask_the_service_import_nothing_heavy(stage, argv, expect):
    if argv[0] == "lights":
        stage.mode = "safe"  # the service cycles its lamps only in safe mode
    out, heavy = run_probe(stage, *argv)
    assert expect in out  # the command did its work...
    assert heavy == [], f"`stagebox {' '.join(argv)}` imported {', '.join(heavy)}"  # ...lightly


def test_the_probe_sees_a_heavy_import(stage, tmp_path):
    """The check above can fail: an offline command that reads a WAV does import numpy (and
    the decoder, but not the encoder)."""
    wav = tmp_path / "ltc.wav"
    r = subprocess.run(
        [sys.executable, "-m", "stagebox", "ltc", "generate", str(wav), "--seconds", "1"]
        + ["--start", "01:00:00:00", "--fps", "25"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    r = subprocess.run(
        [sys.executable, "-c", code, "ltc", "decode", str(wav)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    heavy = r.stdout.rstrip("\n").rpartition("\n")[2][len("HEAVY:") :].split(",")
    assert "numpy" in heavy and "stagebox.ltc.decoder" in heavy
    assert "stagebox.ltc.encoder" not in heavy  # decoding needs no encoder


def test_help_still_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    listed = capsys.readouterr().out
    for name in COMMANDS:
        assert f"    {name} " in listed or f"    {name}\n" in listed, name


def test_a_mistyped_command_names_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["statsu"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'statsu'" in err
    assert "'status'" in err and "'ltc'" in err  # the full list, not only one command


def test_a_command_still_gets_its_own_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["status", "--help"])
    assert exit_info.value.code == 0
    assert "--socket PATH" in capsys.readouterr().out


def test_the_lights_cli_names_every_gpio_backend():
    """`lights` names the backends without importing GPIO code: the names must agree."""
    from stagebox.cli.lights import BACKEND_NAMES
    from stagebox.gpio.backend import BACKENDS

    assert sorted(BACKEND_NAMES) == sorted(BACKENDS)
