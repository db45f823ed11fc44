"""One managed-thread life cycle for every worker thread of the service.

Every thread of the service is one: the take writer (and the guide writer), the take book,
the disk watch, the lamp driver, the buttons, the front panel, the control socket, the display
sender, the DAW sender, the review desk and the sync scorer. They share one convention (after
gpiozero's `threads.py`):

- `start()` starts the thread (once: a second start is an error) and returns the worker;
- the thread runs `run()`, which loops until `stopping` is set and sleeps on it (or on its own
  condition, which `wake()` then notifies) so a stop is noticed at once;
- `stop(timeout)` sets `stopping`, calls `wake()`, joins with a deadline and raises the
  worker's `error_class` for a thread that will not end; then `closed()` runs (lamps dark,
  device closed) whatever happened;
- an exception that ends `run()` is kept in `error`, logged at error priority with the
  worker's label, `failed()` runs on the thread (the lamps go dark) and `on_failure` gets it
  (the service's report): never a silent death. `stop()` raises it (as `error_class`, with it
  as the cause) unless told not to.
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("stagebox.worker")


class WorkerError(RuntimeError):
    """A worker thread could not be started, would not stop, or failed."""


class Worker(abc.ABC):
    """A named worker thread; subclasses implement `run()` and may override `wake()` and
    `closed()`."""

    name = "stagebox-worker"  # the thread's name (ps, py-spy, the journal)
    label = "a worker thread"  # how messages name it: "the lamp thread"
    error_class: type[Exception] = WorkerError  # what start() and stop() raise

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.on_failure: Callable[[Worker, BaseException], None] | None = None
        self._thread: threading.Thread | None = None

    # -- what subclasses provide --------------------------------------------------------------

    @abc.abstractmethod
    def run(self) -> None:
        """The thread's work: loop until `stopping` is set."""

    def wake(self) -> None:
        """Interrupt whatever `run()` waits on, so it sees `stopping` (default: it waits on
        `stopping` itself)."""
        return None  # an optional hook: nothing by default

    def closed(self) -> None:
        """After the thread ended (or would not): release what the worker holds."""
        return None  # an optional hook: nothing by default

    def failed(self, exc: BaseException) -> None:
        """On the thread, right after `run()` raised `exc`: make things safe at once."""
        return None  # an optional hook: nothing by default

    # -- the life cycle -----------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self):
        if self._thread is not None:
            raise self.error_class(f"{self.label} is already running")
        self.stopping.clear()
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()
        return self

    def _main(self) -> None:
        try:
            self.run()
        except BaseException as exc:
            self.error = exc
            log.error("%s failed: %s", self.label, exc, exc_info=exc)
            try:
                self.failed(exc)
            except Exception:  # making things safe must not hide the failure
                log.exception("%s: after its failure", self.label)
            if self.on_failure is not None:
                try:
                    self.on_failure(self, exc)
                except Exception:  # nor may reporting it
                    log.exception("%s: reporting its failure", self.label)

    def stop(self, timeout: float = 2.0, raise_error: bool = True) -> None:
        """End the thread within `timeout` seconds; raise if it would not, or had failed."""
        self.stopping.set()
        self.wake()
        thread, stuck = self._thread, False
        if thread is not None:
            thread.join(timeout)
            stuck = thread.is_alive()
            if not stuck:
                self._thread = None
        try:
            self.closed()
        finally:
            if stuck:
                raise self.error_class(f"{self.label} did not stop within {timeout} s")
            if raise_error:
                self.check()

    def check(self) -> None:
        """Raise `error_class` if the thread failed."""
        if self.error is not None:
            raise self.error_class(f"{self.label} failed: {self.error}") from self.error

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop(raise_error=exc_type is None)
