"""The config loader: typed values, every problem at once with key, file and line, defaults."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stagebox.config import (
    Config,
    ConfigError,
    config_from_dict,
    default_config_text,
    effective_config_text,
    load_config,
)
from stagebox.config.loader import locate_keys
from stagebox.timecode import RATE_25, RATE_2997DF


def write(tmp_path: Path, text: str, name: str = "stagebox.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path: Path) -> list:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


def test_values_are_read_and_typed(tmp_path):
    path = write(
        tmp_path,
        """
        [audio]
        hat = "usb"
        sample_rate = 96000
        capture_channels = 4
        ltc_channel = 4
        mic_channels = [1, 2]

        [timecode]
        rate = "29.97df"

        [panel]
        address = 0x3d

        [control]
        socket_mode = "0640"

        [display]
        size = "1280x720"
        """,
    )
    cfg = load_config(path)
    assert cfg.audio.sample_rate == 96000
    assert cfg.audio.mic_channels == (1, 2)
    assert cfg.timecode.rate is RATE_2997DF
    assert cfg.panel.address == 0x3D
    assert cfg.control.socket_mode == 0o640
    assert cfg.display.size == (1280, 720)
    assert cfg.source == path
    # untouched keys keep their defaults
    assert cfg.beeps.count == 3 and cfg.stage.mode == "safe"


def test_every_problem_is_reported_with_key_file_and_line(tmp_path):
    path = write(
        tmp_path,
        """\
        [audio]
        sample_rate = 48001
        periods = "four"

        [beeps]
        count = 0
        """,
    )
    found = problems_of(path)
    by_key = {p.key: p for p in found}
    assert set(by_key) == {"audio.sample_rate", "audio.periods", "beeps.count"}
    rate = by_key["audio.sample_rate"]
    assert rate.file == path and rate.line == 2
    assert rate.reason == "48001 is not one of 44100, 48000, 96000"
    assert by_key["audio.periods"].line == 3
    assert "expected an integer" in by_key["audio.periods"].reason
    assert by_key["beeps.count"].line == 6
    assert "minimum 1" in by_key["beeps.count"].reason
    assert str(rate) == f"{path}:2: audio.sample_rate: 48001 is not one of 44100, 48000, 96000"


def test_unknown_keys_and_sections_suggest_the_right_name(tmp_path):
    path = write(
        tmp_path,
        """\
        [audio]
        sampel_rate = 48000

        [timecode]
        ltc_channel = 2

        [beps]
        count = 3
        """,
    )
    reasons = {p.key: p.reason for p in problems_of(path)}
    assert "did you mean sample_rate?" in reasons["audio.sampel_rate"]
    assert "audio.ltc_channel" in reasons["timecode.ltc_channel"]
    assert "did you mean [beeps]?" in reasons["beps"]


def test_cross_field_clashes(tmp_path):
    path = write(
        tmp_path,
        """\
        [audio]
        capture_channels = 2
        ltc_channel = 1
        mic_channels = [1, 3]
        headphone_channels = [3]

        [stage]
        preroll_seconds = 2.0
        """,
    )
    found = problems_of(path)
    reasons = [(p.key, p.reason) for p in found]
    assert any(k == "audio.ltc_channel" and "also listed" in r for k, r in reasons)
    assert any(k == "audio.mic_channels" and "channel 3" in r for k, r in reasons)
    assert any(k == "audio.headphone_channels" and "channel 3" in r for k, r in reasons)
    # 3 beeps 1 s apart start 3 s before TC-in: a 2 s pre-roll cannot hold them
    assert any(k == "stage.preroll_seconds" and "3 s before TC-in" in r for k, r in reasons)
    lines = {p.key: p.line for p in found}
    assert lines["audio.ltc_channel"] == 3 and lines["stage.preroll_seconds"] == 8


def test_toml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "[audio]\nsample_rate = 48000\nperiods = \n")
    (problem,) = problems_of(path)
    assert problem.file == path and problem.line == 3
    assert "not valid TOML" in problem.reason


def test_explicit_missing_file_is_an_error_but_missing_default_is_not(tmp_path, monkeypatch):
    missing = tmp_path / "nope.toml"
    (problem,) = problems_of(missing)
    assert "not found" in problem.reason
    monkeypatch.setenv("STAGEBOX_CONFIG", str(missing))
    with pytest.raises(ConfigError):
        load_config()
    monkeypatch.delenv("STAGEBOX_CONFIG")
    monkeypatch.setattr("stagebox.config.loader.DEFAULT_PATH", missing)
    assert load_config() == Config()


def test_env_var_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "[log]\nlevel = 'debug'\n")
    monkeypatch.setenv("STAGEBOX_CONFIG", str(path))
    assert load_config().log.level == "debug"


def test_relative_paths_are_taken_from_the_config_folder(tmp_path):
    (tmp_path / "sheets").mkdir()
    sheet = tmp_path / "sheets" / "reel1.csv"
    sheet.write_text("cue\n")
    path = write(tmp_path, '[stage]\ncue_sheet = "sheets/reel1.csv"\n[takes]\nfolder = "t"\n')
    cfg = load_config(path)
    assert cfg.stage.cue_sheet == sheet
    assert cfg.takes.folder == tmp_path / "t"
    path.write_text('[stage]\ncue_sheet = "sheets/missing.csv"\n')
    (problem,) = problems_of(path)
    assert problem.key == "stage.cue_sheet" and "not an existing file" in problem.reason


def test_overrides_are_validated_like_the_file():
    cfg = load_config_defaults_with({"audio.backend": "sim", "lights.backend": "sim"})
    assert cfg.audio.backend == "sim" and cfg.lights.backend == "sim"
    with pytest.raises(ConfigError) as info:
        load_config_defaults_with({"audio.backend": "jack"})
    (problem,) = info.value.problems
    assert problem.key == "audio.backend" and "override" in problem.reason


def load_config_defaults_with(overrides):
    return config_from_dict({}, overrides=overrides)


def test_default_text_is_valid_toml_giving_the_defaults(tmp_path):
    text = default_config_text()
    path = write(tmp_path, text)
    assert load_config(path) == Config()
    data = tomllib.loads(text)
    # every key of every section is written out (not left implicit)
    for name, section in data.items():
        expected = {f for f in Config().__getattribute__(name).__dataclass_fields__}
        assert set(section) == expected, name
    # and every key line carries a comment above it
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[i - 1].startswith("#") and lines[i - 2].startswith("#"), line


def test_show_round_trips_a_changed_config(tmp_path):
    path = write(
        tmp_path,
        """
        [timecode]
        rate = "25"
        [audio]
        mic_channels = [1]
        headphone_channels = [2]
        [panel]
        address = 0x3d
        """,
    )
    cfg = load_config(path)
    shown = effective_config_text(cfg)
    again = load_config(write(tmp_path, shown, "shown.toml"))
    assert again == cfg
    assert again.timecode.rate is RATE_25
    assert 'rate = "25"  # default: "auto"' in shown


def test_locate_keys_skips_multiline_values():
    text = textwrap.dedent(
        '''\
        [stage]
        project = """
        fake = 1
        """
        [audio]
        mic_channels = [
          1,
        ]
        periods = 4
        '''
    )
    where = locate_keys(text)
    assert where["stage.project"] == 2
    assert "stage.fake" not in where
    assert where["audio.mic_channels"] == 6 and where["audio.periods"] == 9


@given(st.integers(min_value=-(2**40), max_value=2**40))
def test_sample_rate_accepts_only_the_listed_rates(rate):
    if rate in (44100, 48000, 96000):
        assert config_from_dict({"audio": {"sample_rate": rate}}).audio.sample_rate == rate
    else:
        with pytest.raises(ConfigError) as info:
            config_from_dict({"audio": {"sample_rate": rate}})
        assert info.value.problems[0].key == "audio.sample_rate"


@given(st.lists(st.integers(min_value=-3, max_value=70), max_size=5))
def test_channel_lists_are_checked_against_capture_channels(channels):
    data = {
        "audio": {"hat": "usb", "capture_channels": 8, "ltc_channel": 8, "mic_channels": channels}
    }
    valid = bool(channels) and all(1 <= c <= 7 for c in channels)
    valid = valid and len(set(channels)) == len(channels)
    if valid:
        assert config_from_dict(data).audio.mic_channels == tuple(channels)
    else:
        with pytest.raises(ConfigError):
            config_from_dict(data)


def test_take_name_template_checked_in_config():
    ok = config_from_dict({"takes": {"name_template": "<project>_<cue>_T<take:03>.wav"}})
    assert ok.takes.name_template == "<project>_<cue>_T<take:03>.wav"
    for bad, why in [
        ("<cue>.wav", "<take>"),
        ("<cue>_<take>.aiff", ".wav"),
        ("<reel>_<take>.wav", "<reel>"),
    ]:
        with pytest.raises(ConfigError, match="takes.name_template") as err:
            config_from_dict({"takes": {"name_template": bad}})
        assert why in str(err.value)
