"""`stagebox config ...`: check, show and document the configuration file."""

from __future__ import annotations

import argparse
import sys

from stagebox.cli import CLIError
from stagebox.config import (
    ConfigError,
    default_config_text,
    effective_config_text,
    load_config,
    reference_markdown,
)
from stagebox.config.loader import config_path
from stagebox.safefile import show_path
from stagebox.termtext import printable


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser("config", help="check, show and document the configuration")
    cmds = config.add_subparsers(dest="config_command", metavar="ACTION")
    cmds.required = True

    check = cmds.add_parser("check", help="list every problem in a config file (exit 2 if any)")
    check.add_argument(
        "file", nargs="?", metavar="FILE", help="default: $STAGEBOX_CONFIG or /etc/stagebox/..."
    )
    check.add_argument("--config", dest="config", metavar="FILE", help="same as FILE")
    check.set_defaults(func=run_check)

    show = cmds.add_parser("show", help="print the configuration in effect, as TOML")
    show.add_argument("--config", metavar="FILE", help="config file to read")
    show.set_defaults(func=run_show)

    default = cmds.add_parser("default", help="print the fully commented default config")
    default.set_defaults(func=run_default)

    reference = cmds.add_parser("reference", help="print the key reference (Markdown)")
    reference.set_defaults(func=run_reference)


def run_check(args: argparse.Namespace) -> int:
    if args.file and args.config and args.file != args.config:
        raise CLIError("give the config file once: FILE or --config FILE")
    path = args.file or args.config
    file, explicit = config_path(path)
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(printable(problem, newlines=False))
        count = len(exc.problems)
        print(f"{show_path(file)}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return 2  # like every refusal of bad input (docs/cli.md)
    for warning in cfg.warnings:
        print(f"warning: {printable(warning, newlines=False)}")
    origin = cfg.source or f"{file} not found: built-in defaults"
    note = f" ({len(cfg.warnings)} warning{'s' if len(cfg.warnings) != 1 else ''})"
    print(f"{origin}: ok{note if cfg.warnings else ''}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(printable(problem, newlines=False), file=sys.stderr)
        raise CLIError("the configuration has problems: see `stagebox config check`") from None
    for warning in cfg.warnings:
        print(f"warning: {printable(warning, newlines=False)}", file=sys.stderr)
    sys.stdout.write(effective_config_text(cfg))
    return 0


def run_default(args: argparse.Namespace) -> int:
    sys.stdout.write(default_config_text())
    return 0


def run_reference(args: argparse.Namespace) -> int:
    sys.stdout.write(reference_markdown())
    return 0
