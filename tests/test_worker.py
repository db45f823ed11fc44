"""The one managed-thread life cycle the service's workers share."""

from __future__ import annotations

import threading
import time

import pytest

from stagebox.worker import Worker, WorkerError


class Ticker(Worker):
    name = "test-ticker"
    label = "the ticker"

    def __init__(self, fail_after: int | None = None, ignore_stop: bool = False) -> None:
        super().__init__()
        self.ticks = 0
        self.fail_after = fail_after
        self.ignore_stop = ignore_stop
        self.closed_calls = 0
        self.failed_with: BaseException | None = None
        self.release = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set() or self.ignore_stop:
            self.ticks += 1
            if self.fail_after is not None and self.ticks > self.fail_after:
                raise RuntimeError("bus error")
            if self.ignore_stop and self.release.wait(0.01):
                return
            self.stopping.wait(0.01)

    def closed(self) -> None:
        self.closed_calls += 1

    def failed(self, exc: BaseException) -> None:
        self.failed_with = exc


def test_start_stop_names_the_thread_and_closes_once():
    worker = Ticker().start()
    assert worker.alive and any(t.name == "test-ticker" for t in threading.enumerate())
    with pytest.raises(WorkerError, match="the ticker is already running"):
        worker.start()
    time.sleep(0.05)
    worker.stop()
    assert not worker.alive and worker.ticks > 0 and worker.closed_calls == 1


def test_a_failure_is_kept_made_safe_reported_and_raised_at_stop():
    reports = []
    worker = Ticker(fail_after=2)
    worker.on_failure = lambda w, exc: reports.append((w.label, str(exc)))
    worker.start()
    deadline = time.monotonic() + 5
    while worker.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert isinstance(worker.error, RuntimeError) and worker.failed_with is worker.error
    assert reports == [("the ticker", "bus error")]
    with pytest.raises(WorkerError, match="the ticker failed: bus error") as err:
        worker.stop()
    assert err.value.__cause__ is worker.error and worker.closed_calls == 1


def test_a_thread_that_will_not_stop_is_an_error_and_still_closes():
    worker = Ticker(ignore_stop=True).start()
    with pytest.raises(WorkerError, match="the ticker did not stop within 0.05 s"):
        worker.stop(timeout=0.05)
    assert worker.closed_calls == 1
    worker.release.set()
