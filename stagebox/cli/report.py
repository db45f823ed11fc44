"""`stagebox report [-o OUT.csv]`: the take report CSV of the running stage's takes folder,
for the editor (asks the service; `stagebox takes report FOLDER` reads a folder offline)."""

from __future__ import annotations

import argparse
import csv
import io
import sys

from stagebox.cli import CLIError, remote


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="write the take report CSV (asks the service)")
    report.add_argument(
        "-o", "--out", metavar="OUT.csv", help="file to write (default, or -: stdout)"
    )
    remote.add_socket_option(report)
    report.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = remote.call(args, "report")
    text = result.get("csv", "") if isinstance(result, dict) else ""
    if not args.out or args.out == "-":  # `-o -`: stdout, as without -o
        sys.stdout.write(text)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    except OSError as exc:
        raise CLIError(f"{args.out}: {exc.strerror or exc}") from None
    takes = max(0, len(list(csv.reader(io.StringIO(text)))) - 1)  # rows less the header
    print(f"{args.out}: {takes} takes", file=sys.stderr)
    return 0
