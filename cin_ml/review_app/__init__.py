"""``cin-ml review-app``: the ethics committee reviews model versions in a browser.

A small Flask app (server-rendered, no JavaScript) over :mod:`cin_ml.registry`: the review
queue, a version page (the registered card, fairness verdicts with their intervals, the
comparison with the traditional indicator and the context-only baseline, the data-use
agreements, the diff against the current champion, the version's governance history) and a
decision form that calls :func:`cin_ml.registry.review` exactly as ``cin-ml review`` does,
bound to the card hash shown on the page. French by default, English with ``?lang=en``.

Top layer beside the CLI (it imports the registry, nothing imports it but the CLI); it never
imports mlflow. Who acts comes from the :class:`Identity` seam (``_identity``): a declared
name on the embedded store, the server-authenticated user on a team server.

::

    app = create_app("sqlite:////abs/mlruns/mlflow.db", demo_key=True)
    serve(app, port=8765)                     # http://127.0.0.1:8765/
"""

from __future__ import annotations

from cin_ml.review_app._app import create_app
from cin_ml.review_app._identity import (
    DeclaredIdentity,
    Identity,
    Principal,
    ServerIdentity,
    act_with_environment,
    check_server_credentials,
    identity_for,
)
from cin_ml.review_app._serve import DEFAULT_PORT, running, serve

__all__ = [
    "DEFAULT_PORT",
    "DeclaredIdentity",
    "Identity",
    "Principal",
    "ServerIdentity",
    "act_with_environment",
    "check_server_credentials",
    "create_app",
    "identity_for",
    "running",
    "serve",
]
