"""sd_notify messages through a datagram socket bound as NOTIFY_SOCKET."""

import socket

import pytest

from stagebox.notify import Notifier


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.5)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()


def received(sock):
    out = []
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except TimeoutError:
        return out


def test_ready_once_and_status_on_change(notify_socket):
    n = Notifier()
    n.ready()
    n.ready()
    n.status("01:00:10:00 cue 101 take 3 record")
    n.status("01:00:10:00 cue 101 take 3 record")
    n.status("lost")
    n.stopping()
    assert received(notify_socket) == [
        "READY=1",
        "STATUS=01:00:10:00 cue 101 take 3 record",
        "STATUS=lost",
        "STOPPING=1",
    ]


def test_watchdog_pinged_at_half_the_interval(notify_socket, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")  # WatchdogSec=2
    now = [100.0]
    n = Notifier(clock=lambda: now[0])
    assert n.watchdog_interval == 1.0
    for t in (100.0, 100.5, 101.0, 101.2, 102.1):
        now[0] = t
        n.audio_flowing()
    assert received(notify_socket) == ["WATCHDOG=1"] * 3


def test_no_watchdog_without_watchdog_usec(notify_socket, monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    n = Notifier()
    n.audio_flowing()
    assert received(notify_socket) == []
