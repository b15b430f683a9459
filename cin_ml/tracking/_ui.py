"""The MLflow UI on a store: started on loopback, announced when it answers, stopped whole.

``mlflow ui`` starts a server process and its workers; stopped with Ctrl-C through a plain
``subprocess.run`` the workers outlived it and kept the port. Here the server runs in its own
process group, readiness is MLflow's ``/health`` answering, and stopping ends the group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from cin_ml.errors import TrackingError
from cin_ml.store import resolve_store

HOST = "127.0.0.1"


def ui_command(port: int = 5000, tracking_uri: str | None = None) -> list[str]:
    """The ``mlflow ui`` command line for the store (loopback, one worker: starts in ~7 s)."""
    store = resolve_store(tracking_uri)
    argv = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", store.tracking_uri,
            "--host", HOST, "--port", str(port), "--workers", "1"]
    if store.artifact_root:
        argv += ["--default-artifact-root", store.artifact_root]
    return argv


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``HOST:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _stop(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """End the server's whole process group: SIGTERM, then SIGKILL after ``grace_s``."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # workers may outlive the leader by a moment: make sure the group is gone
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def running_ui(port: int = 5000, tracking_uri: str | None = None,
               timeout_s: float = 120.0) -> Iterator[str]:
    """Run the MLflow UI for the block and yield its URL once it answers.

    Raises
    ------
    TrackingError
        The port is taken, the server exited before answering, or it did not answer within
        ``timeout_s``.
    """
    with running_mlflow(ui_command(port, tracking_uri), port, timeout_s=timeout_s) as url:
        yield url


@contextlib.contextmanager
def running_mlflow(argv: list[str], port: int, env: dict[str, str] | None = None,
                   timeout_s: float = 120.0, name: str = "the MLflow UI",
                   on_start: Callable[[subprocess.Popen], None] = lambda proc: None,
                   log: Path | None = None) -> Iterator[str]:
    """Run an MLflow server command line (``argv``, listening on loopback ``port``) in its own
    process group for the block; yield its URL once ``/health`` answers; stop the whole group
    on the way out. ``on_start`` receives the process as soon as it is started. A
    long-running server logs to ``log`` (a file, appended to) rather than to a pipe that
    nobody drains once it has answered.

    Raises
    ------
    TrackingError
        The port is taken, the server exited before answering, or it did not answer within
        ``timeout_s``.
    """
    if not port_is_free(port):
        raise TrackingError(f"port {port} on {HOST} is in use: stop what holds it or pass "
                            f"--port")
    url = f"http://{HOST}:{port}"
    sink = subprocess.PIPE if log is None else log.open("ab")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=sink,
                            start_new_session=True, env=env)
    on_start(proc)
    try:
        deadline = time.monotonic() + timeout_s
        while not _answers(f"{url}/health"):
            if proc.poll() is not None:
                raw = proc.stderr.read() if proc.stderr else log.read_bytes()[-4000:]
                err = (raw or b"").decode("utf-8", "replace").strip()
                last = err.splitlines()[-1] if err else f"exit code {proc.returncode}"
                raise TrackingError(f"{name} stopped before answering: {last}")
            if time.monotonic() > deadline:
                raise TrackingError(f"{name} did not answer on {url} within "
                                    f"{timeout_s:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        _stop(proc)
        if proc.stderr:
            proc.stderr.close()
        if log is not None:
            sink.close()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def serve_ui(port: int = 5000, tracking_uri: str | None = None,
             on_ready: Callable[[str, float], None] = lambda url, s: None) -> None:
    """Run the MLflow UI until interrupted (Ctrl-C or SIGTERM); ``on_ready(url, seconds)``
    is called once it answers. The server and its workers are stopped on the way out."""
    started = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C stops it even when started from a parent that ignores SIGINT (a background
    # job of a non-interactive shell inherits SIG_IGN, and Python then keeps it)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with running_ui(port, tracking_uri) as url:
            on_ready(url, time.monotonic() - started)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
