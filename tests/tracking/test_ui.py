"""`cin-ml ui` announces its URL only once the server answers, and stopping it frees the port
(the server's workers once outlived Ctrl-C and kept it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from cin_ml.tracking._ui import port_is_free


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ui_announces_when_it_answers_and_stops_whole(tmp_path):
    port = _free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    cli = Path(sys.executable).parent / "cin-ml"
    proc = subprocess.Popen([str(cli), "ui", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        line = ""
        while "MLflow UI on http" not in line:
            assert time.monotonic() < deadline, "no URL announced"
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "cin-ml ui exited early"
        url = line.split("MLflow UI on ", 1)[1].split()[0]
        assert url == f"http://127.0.0.1:{port}"
        # announced only once it answers: the very first request succeeds
        with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"{url}/", timeout=5) as r:
            assert r.status == 200
    finally:
        # keep reading what it prints, so a full pipe can never hold it up
        rest: list[str] = []
        reader = threading.Thread(target=lambda: rest.extend(proc.stdout), daemon=True)
        reader.start()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            reader.join(5)
            pytest.fail("cin-ml ui still running 60 s after SIGINT; it printed: "
                        + "".join(rest)[-2000:])
        reader.join(5)
    for _ in range(50):
        if port_is_free(port):
            break
        time.sleep(0.2)
    assert port_is_free(port), "the server or a worker still holds the port"
    assert proc.returncode == 0


def test_ui_refuses_a_port_in_use(tmp_path):
    import socket

    from cin_ml.errors import TrackingError
    from cin_ml.tracking import running_ui

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(TrackingError, match=f"port {port}"), running_ui(
                port, f"sqlite:///{tmp_path / 'mlflow.db'}"):
            pass
