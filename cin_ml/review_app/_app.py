"""The Flask application: queue, version page, decision form, the card, sign-in.

Every registry call runs inside ``identity.acting(principal)`` on a fresh registry context;
every :class:`~cin_ml.errors.CinMLError` becomes a message on the page with a 4xx status,
anything else a generic 500 page (the detail goes to the server log, never to the page).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from cin_ml.errors import CinMLError
from cin_ml.review_app import _pages
from cin_ml.review_app._i18n import Words, pick_lang
from cin_ml.review_app._identity import Identity, Principal, identity_for
from cin_ml.review_app._refusals import refusal_text
from cin_ml.review_app._security import (
    CARD_CSP,
    FIELD,
    csrf_ok,
    csrf_token,
    page_headers,
)

log = logging.getLogger("cin_ml.review_app")


class _ReviewFlask(Flask):
    def select_jinja_autoescape(self, filename: str) -> bool:
        return True  # every template (they end in .j2): every stored string is escaped


class Refusal(Exception):
    """A request refused with a message for the page and a 4xx status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def create_app(store=None, *, settings=None, consent=None, today: dt.date | None = None,
               demo_key: bool = False, identity: Identity | None = None,
               secret_key: bytes | None = None) -> Flask:
    """The review app on ``store`` (a tracking URI or :class:`cin_ml.registry.RegistryStore`;
    default: the resolved store), with the governance policy ``settings`` and agreements
    ``consent`` (default: the configs), ``today`` fixed for tests, and ``identity``
    (default: :func:`identity_for` the store)."""
    from jinja2 import StrictUndefined

    from cin_ml.registry import (
        load_governance_settings,
        make_ctx,
        resolve_governance_key,
        resolve_registry_store,
    )

    st = store if hasattr(store, "tracking_uri") else resolve_registry_store(store)
    policy = settings or load_governance_settings()
    who_is = identity or identity_for(st.tracking_uri)
    if who_is.kind == "declared":  # no key: refused now, not at the first page (on a team
        resolve_governance_key(st, demo=demo_key)  # server, its governance service holds it)

    app = _ReviewFlask(__name__, template_folder="templates", static_folder="static")
    app.jinja_env.undefined = StrictUndefined
    app.config.update(SECRET_KEY=secret_key or secrets.token_bytes(32),
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_NAME="cin_ml_review",
                      SESSION_COOKIE_SECURE=st.tracking_uri.startswith("https://"),
                      MAX_CONTENT_LENGTH=64 * 1024)
    app.extensions["cin_ml"] = {"store": st, "identity": who_is, "settings": policy}

    def ctx():
        return make_ctx(policy, consent, st, today, demo_key)

    def words() -> Words:
        if request.args.get("lang"):
            session["lang"] = pick_lang(request.args["lang"])
        return Words(session.get("lang", "fr"))

    def principal() -> Principal | None:
        return who_is.principal(session, request.authorization)

    def page(template: str, status: int = 200, **values: Any) -> Response:
        w = words()
        who = principal()
        body = render_template(
            template, w=w, lang=w.lang, who=who, identity_kind=who_is.kind,
            committee=who_is.is_committee(who, policy),
            csrf=csrf_token(session), csrf_field=FIELD, store_uri=_public_uri(st.tracking_uri),
            **values)
        return Response(body, status=status, mimetype="text/html")

    def need_principal() -> Principal | Response:
        who = principal()
        if who is not None:
            return who
        if who_is.kind == "server":
            w = words()
            return Response(w["auth_failed"], 401,
                            {"WWW-Authenticate": 'Basic realm="cin-ml review", charset="UTF-8"'})
        return redirect(url_for("sign_in", next=request.full_path))

    def check_post() -> None:
        if not csrf_ok(session, request.form.get(FIELD), request.host_url,
                       request.headers.get("Origin"), request.headers.get("Referer")):
            raise Refusal(words()["csrf"], 403)

    @app.after_request
    def _headers(resp: Response) -> Response:
        page_headers(resp.headers)
        return resp

    @app.errorhandler(Refusal)
    def _refused(exc: Refusal):
        return page("error.html.j2", exc.status, message=str(exc))

    @app.errorhandler(CinMLError)
    def _cinml(exc: CinMLError):
        return page("error.html.j2", 400, message=str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        w = words()
        msg = w["not_found"] if exc.code == 404 else (exc.description or w["error"])
        return page("error.html.j2", exc.code or 500, message=msg)

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("review app: unexpected error")
        return page("error.html.j2", 500, message=words()["internal"])

    @app.route("/signin", methods=["GET", "POST"])
    def sign_in():
        if who_is.kind == "server":
            got = need_principal()
            return got if isinstance(got, Response) else redirect(url_for("queue"))
        error = None
        if request.method == "POST":
            check_post()
            try:
                who_is.sign_in(session, request.form.get("name", ""))
            except CinMLError as exc:
                error = f"{words()['bad_name']} {exc}"
            else:
                nxt = request.args.get("next", "")
                return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//")
                                else url_for("queue"), 303)
        return page("signin.html.j2", 400 if error else 200, error=error)

    @app.post("/signout")
    def sign_out():
        check_post()
        who_is.sign_out(session)
        return redirect(url_for("sign_in"), 303)

    @app.get("/")
    def queue():
        who = need_principal()
        if isinstance(who, Response):
            return who
        from cin_ml.registry import review_queue

        with who_is.acting(who):
            q = review_queue(ctx())
        return page("queue.html.j2", queue=q, states=("pending", "approved", "rejected",
                                                       "expired"))

    def version_page(model: str, version: str, who: Principal, status: int = 200,
                     error: str | None = None, form: dict | None = None) -> Response:
        from cin_ml.registry import compare, version_record

        with who_is.acting(who):
            c = ctx()
            rec = version_record(c, model, version)
            diff, diff_error = None, None
            if rec["champion"] and rec["champion"] != rec["version"]:
                try:
                    diff = compare(c, model, challenger=rec["version"]).to_dict()
                except CinMLError as exc:
                    diff_error = str(exc)
        limit = c.today + dt.timedelta(days=policy.approval.max_validity_days)
        flash = session.pop("flash", None)
        return page("version.html.j2", status, rec=rec, diff=diff, diff_error=diff_error,
                    verdicts=_pages.verdict_matrix(rec["fairness_verdicts"], rec["audit"]),
                    indicator=_pages.indicator_rows(rec["metrics"]),
                    agreements=_pages.agreement_rows(rec["consent_scope"]),
                    today=c.today.isoformat(), limit=limit.isoformat(),
                    max_days=policy.approval.max_validity_days, error=error, flash=flash,
                    form=form or {"decision": "", "comment": "", "conditions": "",
                                  "expires": limit.isoformat(), "accept": []})

    @app.get("/models/<model>/versions/<version>")
    def version(model: str, version: str):
        who = need_principal()
        if isinstance(who, Response):
            return who
        try:
            return version_page(model, version, who)
        except CinMLError as exc:
            raise Refusal(str(exc), 404) from None

    @app.post("/models/<model>/versions/<version>/decision")
    def decide(model: str, version: str):
        from cin_ml.registry import parse_day, version_record

        check_post()
        who = need_principal()
        if isinstance(who, Response):
            return who
        w = words()
        f = request.form
        form = {"decision": f.get("decision", ""), "comment": f.get("comment", ""),
                "conditions": f.get("conditions", ""), "expires": f.get("expires", ""),
                "accept": f.getlist("accept")}
        with who_is.acting(who):
            rec = version_record(ctx(), model, version)
        problem, status = None, 400
        if form["decision"] not in ("approve", "reject"):
            problem = w["choose"]
        elif f.get("card_sha256", "") != (rec["card_sha256"] or ""):
            problem, status = w["stale_card"].format(
                shown=(f.get("card_sha256") or "?")[:12],
                pinned=(rec["card_sha256"] or "?")[:12]), 409
        until = None
        if problem is None:
            try:
                until = parse_day(form["expires"], "expires")
            except CinMLError:
                problem = w["bad_date"]
        if problem is None:
            try:
                with who_is.acting(who):
                    done = who_is.review(ctx(), who, model, version,
                                         approve=form["decision"] == "approve",
                                         comment=form["comment"],
                                         conditions=form["conditions"],
                                         accept_fairness=form["accept"], expires=until)
            except CinMLError as exc:
                author = (rec.get("author") or "")
                status = 403 if (not who_is.is_committee(who, policy)
                                 or who.name == author) else 409
                problem = f"{w['refused']} {refusal_text(str(exc), w.lang)}"
            else:
                session["flash"] = w["decided"].format(
                    state=w.state(done["state"]), who=done["reviewer"], seq=done["event"])
                return redirect(url_for("version", model=model, version=version), 303)
        return version_page(model, version, who, status, error=problem, form=form)

    @app.get("/models/<model>/versions/<version>/card.<lang>.html")
    def card(model: str, version: str, lang: str):
        from cin_ml.registry import card_rendering

        who = need_principal()
        if isinstance(who, Response):
            return who
        try:
            with who_is.acting(who):
                raw = card_rendering(ctx(), model, version, lang)
        except CinMLError as exc:
            w = words()
            raw = (f"<!doctype html><meta charset=utf-8><p>{_escape(w['card_unavailable'])} "
                   f"{_escape(str(exc))}</p>").encode()
            status = 409
        else:
            status = 200
        resp = Response(raw, status, mimetype="text/html")
        resp.headers["Content-Security-Policy"] = CARD_CSP
        resp.headers["X-Frame-Options"] = "SAMEORIGIN"
        return resp

    @app.get("/favicon.ico")
    def favicon():
        abort(404)

    return app


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _public_uri(uri: str) -> str:
    """The store's URI without credentials (``user:pass@``) for display."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if not (parts.password or parts.username):
        return uri
    return urlunsplit(parts._replace(
        netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")))
