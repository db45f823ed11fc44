"""Logging for the service: the systemd journal with structured fields, or stderr.

Under systemd (JOURNAL_STREAM is set) records go to the journal through systemd-python's
JournalHandler, which passes a record's `extra` fields on as journal fields: the stage logs
its events with CUE, TAKE and TIMECODE, so `journalctl -u stagebox CUE=101` finds a cue's
passes. Elsewhere (a laptop, the demo, tests) records go to stderr as text.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import queue
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


QUEUE_RECORDS = 10_000  # records held while the journal is slow; beyond that they are dropped


class _DroppingQueueHandler(logging.handlers.QueueHandler):
    """Hands records to the listener's thread; never blocks, never raises on a full queue
    (a stuck journal costs log lines, counted, never an audio period)."""

    dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class _Listener(logging.handlers.QueueListener):
    def enqueue_sentinel(self) -> None:
        self.queue.put(self._sentinel)  # waits for room: the records before it are written


@contextlib.contextmanager
def handlers_off_thread(name: str = "stagebox"):
    """While inside, logger `name`'s handlers run on a thread of their own: the audio thread
    only puts each record on a bounded queue (journald, a slow terminal or a full pipe can
    never hold up a period). The handlers are put back, and the queue drained, on exit."""
    logger = logging.getLogger(name)
    handlers = list(logger.handlers)
    if not handlers:
        yield None
        return
    q: queue.Queue = queue.Queue(QUEUE_RECORDS)
    feeder = _DroppingQueueHandler(q)
    listener = _Listener(q, *handlers, respect_handler_level=True)
    logger.handlers = [feeder]
    listener.start()
    try:
        yield feeder
    finally:
        listener.stop()  # drains what is queued
        logger.handlers = handlers
        if feeder.dropped:
            logger.warning("%d log records dropped while the journal was slow", feeder.dropped)
