"""Logging off the audio thread: a slow journal never holds up the caller."""

from __future__ import annotations

import logging
import threading
import time

from stagebox.logsetup import handlers_off_thread


class SlowJournal(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[str, str]] = []  # (message, thread name)

    def emit(self, record: logging.LogRecord) -> None:
        time.sleep(0.05)  # a journal that takes 50 ms a line
        self.records.append((record.getMessage(), threading.current_thread().name))


def test_a_slow_handler_runs_on_its_own_thread_and_loses_nothing():
    logger = logging.getLogger("stagebox.test-slow")
    journal = SlowJournal()
    logger.addHandler(journal)
    logger.propagate = False
    try:
        with handlers_off_thread("stagebox.test-slow"):
            t0 = time.perf_counter()
            for n in range(20):
                logger.warning("event %d", n)
            spent = time.perf_counter() - t0
            assert logger.handlers != [journal]
        # 20 lines took the journal a second; the caller did not wait for it.
        assert spent < 0.5
        assert [m for m, _ in journal.records] == [f"event {n}" for n in range(20)]
        assert all(name != threading.current_thread().name for _, name in journal.records)
        assert logger.handlers == [journal]  # put back
    finally:
        logger.removeHandler(journal)
        logger.propagate = True


def test_a_full_queue_drops_and_counts_instead_of_blocking(monkeypatch):
    from stagebox import logsetup

    monkeypatch.setattr(logsetup, "QUEUE_RECORDS", 2)
    logger = logging.getLogger("stagebox.test-full")
    stuck = threading.Event()

    class Stuck(logging.Handler):
        def emit(self, record):
            stuck.wait(5)

    logger.addHandler(Stuck())
    logger.propagate = False
    try:
        with handlers_off_thread("stagebox.test-full") as feeder:
            t0 = time.perf_counter()
            for n in range(50):
                logger.warning("event %d", n)
            assert time.perf_counter() - t0 < 1.0
            assert feeder.dropped >= 40
            stuck.set()
    finally:
        logger.handlers.clear()
        logger.propagate = True
