"""`stagebox run`: the service (what systemd starts), in the foreground."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stagebox.cli import CLIError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the stage service (systemd runs this)")
    p.add_argument("--config", metavar="FILE", help="config file (default /etc/stagebox/...)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set audio.backend=sim (repeatable)",
    )
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict[str, object]:
    """`section.key=value` pairs; values are read as TOML (so 48000, true, "x" all work)."""
    import tomllib

    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise CLIError(f"--set {item!r}: expected section.key=value")
        try:
            out[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = value  # a bare word: take it as a string
    return out


def run(args: argparse.Namespace) -> int:
    from stagebox.config import ConfigError, load_config
    from stagebox.logsetup import setup_logging
    from stagebox.service import StageService

    path = Path(args.config) if args.config else None
    overrides = parse_overrides(args.set)
    try:
        cfg = load_config(path, overrides=overrides)
    except ConfigError as exc:
        setup_logging("info")
        import logging

        logging.getLogger("stagebox").error("refusing to start: bad config\n%s", exc)
        print(f"stagebox: refusing to start: bad config\n{exc}", file=sys.stderr)
        return 2
    setup_logging(cfg.log.level)
    return StageService(cfg, config_path=path, overrides=overrides).run()
