"""The control socket under load: a crowd of clients at once, a connect flood, a full queue.

A scaled-down `bench/control_load.py` against the real service (the bench's figures are in
docs/benchmarks.md; timing is not asserted here, on a shared CI machine), and the client's
bounded retries when the socket is busy or not yet listening.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from servicerun import ROOT

from bench.control_load import run_load, start_service, threads_of
from stagebox.control.client import ControlClient, NotRunning
from stagebox.control.protocol import ControlError


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    service = start_service(tmp_path_factory.mktemp("load"), seconds=40)
    yield service
    service.stop()
    service.close()


def test_a_crowd_of_clients_is_all_answered(svc):
    before = threads_of(svc.proc.pid)
    result = run_load(str(svc.stage.socket), clients=60, requests=600, processes=2, pace=0.02)
    assert result["errors"] == []
    assert result["answered"] == 600 and len(result["connects"]) == 60
    assert svc.call("status")["audio"]  # the stage kept running
    time.sleep(0.5)
    # the socket's loop and its few workers: no thread per client left behind
    assert threads_of(svc.proc.pid) <= before + 8
    assert "Traceback" not in svc.log


def test_a_connect_flood_of_cli_commands_gets_no_traceback(svc):
    env = {**os.environ, "STAGEBOX_SOCKET": str(svc.stage.socket)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "stagebox", "status", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for _ in range(24)
    ]
    outcomes = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    for out, err, code in outcomes:
        assert code == 0 and '"mode"' in out and "Traceback" not in err, err


def test_a_full_listen_queue_is_retried_then_refused_in_one_line(tmp_path):
    path = str(tmp_path / "busy.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(0)  # never accepted: the queue is full after a connection or two
    held = []
    try:
        for _ in range(4):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(path)
            except BlockingIOError:
                s.close()
                break
            held.append(s)
        started = time.monotonic()
        with pytest.raises(ControlError, match="too busy"):
            ControlClient(path, timeout=1.0).connect()
        assert 1.5 < time.monotonic() - started < 5  # retried with backoff, then gave up
    finally:
        for s in held:
            s.close()
        listener.close()


def test_a_socket_not_yet_listening_is_waited_for(tmp_path):
    path = str(tmp_path / "starting.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)  # bound, not listening: ECONNREFUSED, as while the service starts

    def listen_soon():
        time.sleep(0.3)
        sock.listen(8)

    threading.Thread(target=listen_soon).start()
    client = ControlClient(path, timeout=1.0)
    try:
        client.connect()  # retried until the socket listens
    finally:
        client.close()
        sock.close()
    with pytest.raises(NotRunning):
        ControlClient(str(tmp_path / "nothing.sock")).connect()  # no file: at once


def test_past_the_connection_limit_new_clients_wait_their_turn(tmp_path, monkeypatch, caplog):
    from stagebox.control import server as control_server

    monkeypatch.setattr(control_server, "MAX_CONNECTIONS", 5)
    path = str(tmp_path / "c.sock")
    srv = control_server.ControlServer(path, lambda cmd, args: cmd, inline=lambda cmd: True)
    srv.start()
    try:
        idle = [ControlClient(path, timeout=5.0).connect() for _ in range(5)]
        assert idle[0].call("status") == "status"
        waiting = ControlClient(path, timeout=5.0).connect()  # queued in the backlog
        answer: list = []
        thread = threading.Thread(target=lambda: answer.append(waiting.call("status")))
        thread.start()
        time.sleep(0.3)
        assert not answer  # not accepted while 5 are open
        idle.pop().close()
        thread.join(5)
        assert answer == ["status"]  # accepted once one closed, within the pause
        for client in [*idle, waiting]:
            client.close()
    finally:
        srv.stop()
    assert any("not accepting" in r.getMessage() for r in caplog.records)
