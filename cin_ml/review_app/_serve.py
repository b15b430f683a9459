"""Serving the review app: a threaded WSGI server bound to loopback by default."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from cin_ml.errors import ConfigError

DEFAULT_PORT = 8765
LOOPBACK = "127.0.0.1"


def _server(app, host: str, port: int):
    from werkzeug.serving import make_server

    try:
        return make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise ConfigError(f"[review-app] cannot listen on {host}:{port}: {exc.strerror or exc}"
                          ) from None


def serve(app, port: int = DEFAULT_PORT, host: str = LOOPBACK,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Serve ``app`` until interrupted (Ctrl-C); ``on_ready(url)`` once listening."""
    srv = _server(app, host, port)
    if on_ready is not None:
        on_ready(f"http://{host}:{srv.server_port}/")
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


@contextlib.contextmanager
def running(app, port: int = 0, host: str = LOOPBACK) -> Iterator[str]:
    """``app`` served in a background thread for the block (port 0: a free one); yields its
    base URL (for tests and notebooks)."""
    srv = _server(app, host, port)
    t = threading.Thread(target=srv.serve_forever, name="cin-ml-review-app", daemon=True)
    t.start()
    try:
        yield f"http://{host}:{srv.server_port}"
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(timeout=10)
