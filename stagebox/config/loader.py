"""Load and validate the stagebox TOML config, reporting every bad value at once.

Which file: the `path` argument (the `--config` option), else `$STAGEBOX_CONFIG`, else
/etc/stagebox/stagebox.toml. A file named explicitly must exist; when the default file is
absent the built-in defaults are used (a laptop running `stagebox demo` needs no config).

The service refuses to start on a bad config: `load_config` raises `ConfigError` listing every
problem (type, range, unknown key with a "did you mean", cross-field clash), each with its
key path and the file and line where the engineer wrote it.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stagebox.config.checks import cross_checks
from stagebox.config.errors import ConfigError, Problem
from stagebox.config.opens import service_checks
from stagebox.config.schema import DEFAULT_PATH, DEPRECATED, Config, keys, sections
from stagebox.safefile import (
    CONFIG_MAX_BYTES,
    FileRefused,
    path_problem,
    read_text_bounded,
    show_path,
    toml_loads,
)

ENV_VAR = "STAGEBOX_CONFIG"


def config_path(path: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """The file to read and whether it was asked for explicitly (then it must exist)."""
    if path is not None:
        return Path(path), True
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env), True
    return DEFAULT_PATH, False


def load_config(
    path: str | os.PathLike | None = None, overrides: Mapping[str, Any] | None = None
) -> Config:
    """Read, validate and return the configuration.

    `overrides` maps dotted keys to raw TOML values (`{"audio.backend": "sim"}`) applied on
    top of the file and validated like it: `stagebox demo` uses them to pick sim backends.
    Raises `ConfigError` with every problem found.
    """
    file, explicit = config_path(path)
    if not explicit and not file.exists():
        return config_from_dict({}, overrides=overrides, check_opens=True)
    problem = path_problem(file)
    if problem:
        raise ConfigError([Problem("", problem, Path(show_path(file)))])
    if not file.exists() and not file.is_symlink():
        raise ConfigError([Problem("", "config file not found", file)])
    try:
        text = read_text_bounded(file, CONFIG_MAX_BYTES, "config file")
    except FileRefused as exc:
        raise ConfigError([Problem("", exc.reason, file)]) from None
    return config_from_text(text, file, overrides=overrides, check_opens=True)


def config_from_text(
    text: str,
    file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    check_opens: bool = False,
) -> Config:
    """Validate TOML `text` (read from `file`, used for messages and relative paths)."""
    try:
        data = toml_loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match[1]) if match else None
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise ConfigError([Problem("", f"not valid TOML: {reason}", file, line)]) from None
    return config_from_dict(data, file, locate_keys(text), overrides, check_opens=check_opens)


def config_from_dict(
    data: Mapping[str, Any],
    file: Path | None = None,
    lines: Mapping[str, int] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    check_opens: bool = False,
) -> Config:
    """Validate parsed TOML `data`; `lines` maps dotted keys to their line in `file`.

    `check_opens`: also check what the service will open (config.opens), as `load_config`
    does for every config file it reads. Off for configs built in code (the demo and tests
    give the service a feed object, not a file).
    """
    lines = lines or {}
    base = file.resolve().parent if file is not None else None
    problems: list[Problem] = []

    def problem(key: str, reason: str, from_override: bool = False) -> None:
        if from_override:
            problems.append(Problem(key, f"{reason} (from an override)"))
        else:
            problems.append(Problem(key, reason, file, lines.get(key)))

    raw: dict[str, dict[str, tuple[Any, bool]]] = {}
    for name, table in data.items():
        if name not in sections():
            problem(name, f"unknown section [{name}]" + _suggest_section(name))
            continue
        if not isinstance(table, Mapping):
            problem(name, f"[{name}] must be a table of keys, not a single value")
            continue
        raw[name] = {key: (value, False) for key, value in table.items()}
    for dotted, value in (overrides or {}).items():
        name, _, key = dotted.partition(".")
        raw.setdefault(name, {})[key] = (value, True)
    warnings = _renamed_keys(raw, problem, lambda key: Problem(key, "", file, lines.get(key)))

    built: dict[str, Any] = {}
    for name, section_cls in sections().items():
        fields = {f.name: f for f in keys(section_cls)}
        values: dict[str, Any] = {}
        for key, (value, from_override) in raw.get(name, {}).items():
            dotted = f"{name}.{key}"
            if key not in fields:
                problem(dotted, f"unknown key {dotted}" + _suggest_key(name, key), from_override)
                continue
            try:
                values[key] = fields[key].metadata["type"].parse(value, base)
            except ValueError as exc:
                problem(dotted, str(exc), from_override)
        built[name] = section_cls(**values)
    for name in raw:
        if name not in sections():  # only overrides get here: the file's were refused above
            problem(name, f"unknown section [{name}]" + _suggest_section(name), True)
    config = Config(**built, source=file, warnings=tuple(warnings))
    for keys_involved, reason in cross_checks(config):
        problem(keys_involved[0], reason)
    if check_opens and not problems:  # paths are only worth opening once their values are good
        for key, reason in service_checks(config):
            problem(key, reason, from_override=key in (overrides or {}))
    if problems:
        # In the order of the file, so the engineer can walk down it; overrides last.
        problems.sort(key=lambda p: (p.line is None, p.line or 0))
        raise ConfigError(problems)
    return config


def _renamed_keys(raw: dict, problem, where) -> list[Problem]:
    """Move the values of renamed keys (`schema.DEPRECATED`) to their new keys in `raw`;
    returns one warning for each, at the old key's line. Both keys given is a problem."""
    warnings: list[Problem] = []
    for name in list(raw):
        for key in list(raw[name]):
            old = f"{name}.{key}"
            renamed = DEPRECATED.get(old)
            if renamed is None:
                continue
            value, from_override = raw[name].pop(key)
            new_section, _, new_key = renamed.replacement.partition(".")
            target = raw.setdefault(new_section, {})
            if new_key in target:
                problem(
                    old,
                    f"{old} was renamed {renamed.replacement} in stagebox {renamed.since} and "
                    f"both are set: remove {old}",
                    from_override,
                )
                continue
            target[new_key] = (value, from_override)
            w = where(old)
            warnings.append(
                Problem(
                    old,
                    f"deprecated: renamed {renamed.replacement} in stagebox {renamed.since}; "
                    f"read as {renamed.replacement} = {value!r} (rename it in the file)",
                    w.file if not from_override else None,
                    w.line if not from_override else None,
                )
            )
    return warnings


def _suggest_section(name: str) -> str:
    close = difflib.get_close_matches(name, list(sections()), n=1)
    return f" (did you mean [{close[0]}]?)" if close else ""


def _suggest_key(section: str, key: str) -> str:
    """A close key in the same section, else the same key in another section."""
    own = [f.name for f in keys(sections()[section])]
    close = difflib.get_close_matches(key, own, n=1)
    if close:
        return f" (did you mean {close[0]}?)"
    elsewhere = [
        f"{other}.{f.name}"
        for other, cls in sections().items()
        for f in keys(cls)
        if f.name == key and other != section
    ]
    if elsewhere:
        return f" (it belongs in [{elsewhere[0].split('.')[0]}]: {elsewhere[0]})"
    everywhere = {f"{s}.{f.name}": f.name for s, cls in sections().items() for f in keys(cls)}
    close = difflib.get_close_matches(key, list(everywhere.values()), n=1, cutoff=0.75)
    if close:
        full = next(d for d, k in everywhere.items() if k == close[0])
        return f" (did you mean {full}?)"
    return ""


_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\"' -]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*(?:\.\s*([A-Za-z0-9_-]+)\s*)?=""")


def locate_keys(text: str) -> dict[str, int]:
    """Map `section.key` (and `section`) to the 1-based line where the TOML text sets it.

    tomllib gives values, not positions; this light scan of table headers and `key =` lines
    is enough for a config file (it skips the inside of multi-line strings and arrays).
    """
    where: dict[str, int] = {}
    section = ""
    in_string: str | None = None
    depth = 0  # open [ of a multi-line array
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        if depth > 0:
            depth += _bracket_balance(line)
            continue
        header = _TABLE.match(line)
        if header and not line.lstrip().startswith("[["):
            section = header[1].strip().strip("\"'")
            where.setdefault(section, number)
            continue
        match = _KEY.match(line)
        if match:
            key = match[1].strip("\"'")
            dotted = f"{section}.{key}" if section else key
            if match[2]:  # `audio.sample_rate = ...` at the top level
                dotted = f"{key}.{match[2]}"
            where.setdefault(dotted, number)
            rest = line[match.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_string = quote
            depth = max(0, _bracket_balance(rest))
    return where


def _bracket_balance(text: str) -> int:
    text = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'|#.*$", "", text)
    return text.count("[") - text.count("]")
