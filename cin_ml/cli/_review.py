"""``cin-ml review-app``: the ethics committee's review page in a browser."""

from __future__ import annotations

from typing import Annotated

import typer

from cin_ml.cli._app import _run, app, console, esc
from cin_ml.cli._governance import DemoKey

REVIEW_APP_PORT = 8765


def review_app_command(tracking_uri: str, demo_key: bool) -> str:
    """The shell command that opens the review page on a store (printed by ``cin-ml demo``)."""
    import shlex

    return " ".join(["cin-ml", "review-app", *(["--demo-key"] if demo_key else []),
                     "--store", shlex.quote(tracking_uri)])


@app.command("review-app")
def review_app(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")]
    = REVIEW_APP_PORT,
    store: Annotated[str | None, typer.Option(
        "--store", help="Tracking store (default: $MLFLOW_TRACKING_URI or the workspace's "
        "embedded store).")] = None,
    host: Annotated[str, typer.Option(
        help="Address to listen on (default loopback; anything else exposes the page to the "
             "network: put it behind the team server's authentication and TLS).")]
    = "127.0.0.1",
    demo_key: DemoKey = False,
) -> None:
    """Serve the review page (queue, version pages, decision form) for the ethics committee;
    French by default, English with ?lang=en. Decisions are `cin-ml review` decisions."""

    def go() -> None:
        from cin_ml.errors import ConfigError
        from cin_ml.review_app import create_app, serve

        app_ = create_app(store, demo_key=demo_key)
        st = app_.extensions["cin_ml"]["store"]
        kind = app_.extensions["cin_ml"]["identity"].kind
        if kind == "declared" and host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError(f"[review-app] --host {host}: on the embedded store reviewers "
                              f"sign in by a declared name, so the page stays on loopback; "
                              f"serve a team server's store to open it to the network")
        console.print(f"review page on the store {esc(st.tracking_uri)}", style="dim")
        if kind == "declared":
            console.print("embedded store: reviewers sign in by name (declared, not "
                          "authenticated)", style="dim")
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        serve(app_, port=port, host=host, on_ready=lambda url: console.print(
            f"review page on [bold]{esc(url)}[/] (English: {esc(url)}?lang=en; Ctrl-C to stop)",
            soft_wrap=True))
        console.print("review page stopped")

    _run(go)
