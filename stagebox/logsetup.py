"""Logging for the service: the systemd journal with structured fields, or stderr.

Under systemd (JOURNAL_STREAM is set) records go to the journal through systemd-python's
JournalHandler, which passes a record's `extra` fields on as journal fields: the stage logs
its events with CUE, TAKE and TIMECODE, so `journalctl -u stagebox CUE=101` finds a cue's
passes. Elsewhere (a laptop, the demo, tests) records go to stderr as text.
"""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str = "info") -> logging.Handler:
    root = logging.getLogger("stagebox")
    root.setLevel(level.upper())
    handler: logging.Handler | None = None
    if os.environ.get("JOURNAL_STREAM"):
        try:
            from systemd.journal import JournalHandler
        except ImportError:
            handler = None
        else:
            handler = JournalHandler(SYSLOG_IDENTIFIER="stagebox")
            handler.setFormatter(logging.Formatter("%(message)s"))
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.propagate = False
    return handler
