"""mlockall in the service: what is asked for under each limit, and what a refusal says."""

from __future__ import annotations

import ctypes
import errno
import resource

from stagebox.memlock import MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, lock_memory, mapped_bytes


class FakeLibc:
    """mlockall that records its flags and fails with `fail_errno` when set."""

    def __init__(self, fail_errno: int = 0) -> None:
        self.fail_errno = fail_errno
        self.calls: list[int] = []

    def mlockall(self, flags: int) -> int:
        self.calls.append(flags)
        if self.fail_errno:
            ctypes.set_errno(self.fail_errno)
            return -1
        return 0


def test_unlimited_locks_present_and_future_pages_on_fault():
    libc = FakeLibc()
    result = lock_memory(libc, limit=resource.RLIM_INFINITY)
    assert libc.calls == [MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT]
    assert result.current and result.future


def test_a_finite_limit_never_locks_future_allocations(caplog):
    # with MCL_FUTURE under a finite limit, an allocation past it would fail mid-take
    libc = FakeLibc()
    result = lock_memory(libc, limit=256 * 2**20)
    assert libc.calls == [MCL_CURRENT | MCL_ONFAULT]
    assert result.current and not result.future
    assert "LimitMEMLOCK is 256 MB, not infinity" in caplog.text


def test_a_refusal_names_the_sizes_and_the_fix_and_the_stage_runs_on(caplog):
    libc = FakeLibc(errno.ENOMEM)
    result = lock_memory(libc, limit=256 * 2**20, mapped=700 * 2**20)
    assert not result.current and not result.future
    assert result.message.startswith(
        "memory not locked (Cannot allocate memory: the process maps 700 MB, RLIMIT_MEMLOCK "
        "is 256 MB)"
    )
    assert "LimitMEMLOCK=infinity" in result.message and "The stage runs on." in result.message
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_eperm_is_reported_as_refused():
    result = lock_memory(FakeLibc(errno.EPERM), limit=resource.RLIM_INFINITY)
    assert not result.current
    assert result.message.startswith("memory not locked (Operation not permitted: mlockall")


def test_mapped_size_is_read_from_proc_status(tmp_path):
    status = tmp_path / "status"
    status.write_text("Name:\tpython3\nVmPeak:\t  500000 kB\nVmSize:\t  409600 kB\n")
    assert mapped_bytes(status) == 409600 * 1024
    assert mapped_bytes(tmp_path / "missing") is None
