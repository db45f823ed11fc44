"""SIGTERM as a clean exit, so `finally` blocks and atexit handlers darken the lamps.

Python's default action for SIGTERM kills the process without unwinding: no `finally`, no
atexit, lamps left as they were. systemd stops a service with SIGTERM, so the lights' owner
turns it into `SystemExit(143)` (128 + SIGTERM, what a shell reports) for as long as it holds
the lamps. Only the main thread can install a signal handler; elsewhere this does nothing and
says so in the log. A handler someone else installed (the service's own) is left alone.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator

log = logging.getLogger("stagebox.signals")


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def sigterm_exits() -> Iterator[bool]:
    """While inside, SIGTERM raises SystemExit(143). Yields whether the handler is in force."""
    if threading.current_thread() is not threading.main_thread():
        log.debug("SIGTERM handler not installed: not on the main thread")
        yield False
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        yield previous is not signal.SIG_IGN
        return
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield True
    finally:
        signal.signal(signal.SIGTERM, previous)
