"""The control socket: JSON lines over a unix socket, errors, a service that is not running."""

import json
import os
import socket
import stat
import threading

import pytest

from stagebox.control.client import ControlClient, NotRunning
from stagebox.control.protocol import ControlError
from stagebox.control.server import ControlServer


@pytest.fixture
def server(tmp_path):
    calls = []

    def dispatch(cmd, args):
        calls.append((cmd, args, threading.current_thread().name))
        if cmd == "echo":
            return args
        if cmd == "refuse":
            raise ControlError("no cue 999 in the cue sheet")
        if cmd == "crash":
            raise ZeroDivisionError("boom")
        raise ControlError(f"unknown command {cmd!r}")

    path = str(tmp_path / "run" / "control.sock")
    srv = ControlServer(path, dispatch, mode=0o660)
    srv.start()
    srv.calls = calls
    yield srv
    srv.stop()


def test_round_trip_and_socket_mode(server):
    with ControlClient(server.path) as client:
        assert client.call("echo", cue="101", take=3) == {"cue": "101", "take": 3}
        assert client.call("echo") == {}
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o660
    assert [c[0] for c in server.calls] == ["echo", "echo"]


def test_refusal_and_internal_error_keep_the_connection(server):
    with ControlClient(server.path) as client:
        with pytest.raises(ControlError, match="no cue 999"):
            client.call("refuse")
        with pytest.raises(ControlError, match="internal error: boom"):
            client.call("crash")
        assert client.call("echo", x=1) == {"x": 1}


def test_malformed_lines_get_an_error_reply(server):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(server.path)
        f = s.makefile("rwb")
        f.write(b"this is not json\n")
        f.write(b'{"args": {}}\n')
        f.write(b'{"cmd": "echo", "args": [1]}\n')
        f.flush()
        replies = [json.loads(f.readline()) for _ in range(3)]
    assert [r["ok"] for r in replies] == [False, False, False]
    assert "not JSON" in replies[0]["error"]
    assert '"cmd"' in replies[1]["error"]
    assert '"args"' in replies[2]["error"]


def test_not_running_says_how_to_start(tmp_path):
    with pytest.raises(NotRunning, match="systemctl start stagebox"):
        ControlClient(str(tmp_path / "nothing.sock")).call("status")


def test_stale_socket_replaced_but_live_one_refused(tmp_path, server):
    stale = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(stale))
    s.close()  # bound but nobody listening: what a crashed service leaves
    srv = ControlServer(str(stale), lambda c, a: "fresh")
    srv.start()
    try:
        assert ControlClient(str(stale)).call("x") == "fresh"
    finally:
        srv.stop()
    with pytest.raises(ControlError, match="already serving"):
        ControlServer(server.path, lambda c, a: None).start()


def test_a_dead_socket_thread_is_reported_not_silent(tmp_path):
    """The control socket is a Worker: if its loop dies the service hears of it (its
    `on_failure`, the stage's message) and stop() raises with the cause; the socket goes."""
    from stagebox.control.server import ControlServerError

    srv = ControlServer(str(tmp_path / "control.sock"), lambda c, a: None)
    reports = []
    srv.on_failure = lambda worker, exc: reports.append((worker.label, str(exc)))

    def broken() -> None:
        raise OSError("selector gone")

    srv._collect = broken  # the loop's own step fails on its next turn
    srv.start()
    srv._thread.join(5)
    assert reports == [("the control socket", "selector gone")]
    with pytest.raises(ControlServerError, match="the control socket failed: selector gone"):
        srv.stop()
    assert not os.path.exists(srv.path)
