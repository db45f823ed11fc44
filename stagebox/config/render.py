"""Write the config out: the commented default file, the effective config, the reference.

All three are generated from the schema, so the docs can never drift from the code.
"""

from __future__ import annotations

import dataclasses

from stagebox.config.schema import DEFAULT_PATH, DEPRECATED, Config, sections

_DEFAULT_HEADER = f"""\
# stagebox configuration ({DEFAULT_PATH})
#
# Every key is listed with its default value and what it does. Edit, then check the file
# with `stagebox config check` and restart the service: `sudo systemctl restart stagebox`.
# The service refuses to start on a bad value and says which key and line are wrong.
# Reference: docs/configuration.md (`stagebox config reference`).
"""


def default_config_text() -> str:
    """The default configuration as a fully commented TOML file (what install.sh installs)."""
    return _DEFAULT_HEADER + _sections_text(Config(), mark_changes=False)


def effective_config_text(config: Config) -> str:
    """`config` as TOML, every key, with `# default: ...` beside values that differ."""
    origin = str(config.source) if config.source else "built-in defaults (no config file)"
    header = f"# effective stagebox configuration, from {origin}\n"
    return header + _sections_text(config, mark_changes=True)


def _sections_text(config: Config, mark_changes: bool) -> str:
    defaults = Config()
    out: list[str] = []
    for name, section_cls in sections().items():
        out.append("")
        out.append(f"[{name}]")
        out.append(f"# {_plain(section_cls.__doc__ or '')}")
        section, default_section = getattr(config, name), getattr(defaults, name)
        for f in dataclasses.fields(section_cls):
            vtype = f.metadata["type"]
            value = getattr(section, f.name)
            out.append("")
            out.append(f"# {_plain(f.metadata['doc'])}")
            out.append(f"# ({_plain(vtype.describe())})")
            line = f"{f.name} = {vtype.to_toml(value)}"
            default = getattr(default_section, f.name)
            if mark_changes and value != default:
                line += f"  # default: {vtype.to_toml(default)}"
            out.append(line)
    return "\n".join(out) + "\n"


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").split())


_REFERENCE_HEADER = """\
# Configuration reference

<!-- Generated from stagebox/config/schema.py by `stagebox config reference`; do not edit.
     tests/test_config_docs.py fails when this file and the schema disagree. -->

stagebox reads one TOML file: `/etc/stagebox/stagebox.toml`, or the file given with
`--config FILE`, or the one named by the `STAGEBOX_CONFIG` environment variable. Without a
file (on a laptop) the defaults below apply. Every key is optional.

- `stagebox config default` prints a fully commented file with every default;
- `stagebox config check [FILE]` lists every problem (key, file:line, reason) and exits 2;
  it also checks what the service will open (files readable and of the right kind: the stage
  feed a WAV, the pin map a pin map, the cue sheet a text file; the socket path's length and
  that it is not in the takes folder), the same checks `stagebox run` makes before it starts;
- `stagebox config show` prints the configuration in effect, marking what differs from the
  defaults.

The service checks the file at start and refuses to run on a bad value, so check before
`sudo systemctl restart stagebox`. Unknown keys are errors too (a misspelt key would otherwise
be silently ignored). Channel numbers count from 1, as on the interface's front panel.
Relative paths are taken from the config file's folder.
"""


def reference_markdown() -> str:
    """docs/configuration.md: every section and key with its type, default and doc."""
    out = [_REFERENCE_HEADER]
    defaults = Config()
    for name, section_cls in sections().items():
        out.append(f"## `[{name}]`\n")
        out.append(_plain(section_cls.__doc__ or "") + "\n")
        out.append("| key | type | default | what it does |")
        out.append("|---|---|---|---|")
        for f in dataclasses.fields(section_cls):
            vtype = f.metadata["type"]
            default = vtype.to_toml(getattr(getattr(defaults, name), f.name))
            cells = [
                f"`{f.name}`",
                _cell(vtype.describe()),
                f"`{_cell(default)}`",
                _cell(_html_safe(f.metadata["doc"])),
            ]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    checks = """\
## Checks across keys

Besides each key's own range, the file is refused when:

- `audio.ltc_channel` or a channel of `audio.mic_channels` exceeds `audio.capture_channels`;
- `audio.ltc_channel` is also listed in `audio.mic_channels`;
- a channel of `audio.headphone_channels` exceeds `audio.playback_channels`;
- the beeps (`beeps.count` x `beeps.spacing_seconds`) or the streamer
  (`display.streamer_seconds`) start before the pre-roll (`stage.preroll_seconds`);
- a beep (`beeps.length_frames`) is as long as the gap between beeps, or its frequency is above
  half the sample rate;
- `buttons.long_press_ms` is not longer than `buttons.debounce_ms`;
- `audio.guide_channel` exceeds `audio.capture_channels`, or is the LTC or a mic channel;
- the control socket lies in the takes folder.
"""
    out.append(checks)
    out.append("## Renamed keys\n")
    out.append(
        "A config that still uses an old name keeps working: the value is read as the new key's,"
        " and `stagebox config check` and the service's journal say which line to change. Giving"
        " both the old and the new key is refused.\n"
    )
    out.append("| old key | new key | renamed in |")
    out.append("|---|---|---|")
    for d in DEPRECATED.values():
        out.append(f"| `{d.key}` | `{d.replacement}` | {d.since} |")
    out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _html_safe(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")
