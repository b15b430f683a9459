"""Cross-site request forgery protection and the pages' security headers.

Every POST must carry the session's token (a random value kept in the signed, ``HttpOnly``,
``SameSite=Strict`` session cookie, echoed in a hidden form field, compared in constant time)
*and* come from this app's own origin (``Origin`` header, else ``Referer``; a POST with
neither is refused).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

TOKEN_KEY = "csrf"
FIELD = "csrf_token"

PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
CARD_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
"""The card is the run's own self-contained HTML: shown sandboxed (no script, no form, no
same-origin access), with only its inline style and embedded figures allowed."""


def csrf_token(session: dict) -> str:
    """The session's token (created on first use)."""
    token = session.get(TOKEN_KEY)
    if not token:
        token = session[TOKEN_KEY] = secrets.token_urlsafe(32)
    return token


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(host_url: str, origin: str | None, referer: str | None) -> bool:
    """Whether a request's ``Origin`` (else ``Referer``) is this app's origin."""
    mine = _origin(host_url)
    if origin:
        return origin.lower() != "null" and _origin(origin) == mine
    if referer:
        return _origin(referer) == mine
    return False


def csrf_ok(session: dict, form_token: str | None, host_url: str, origin: str | None,
            referer: str | None) -> bool:
    """Whether a POST passes both checks (token and origin)."""
    token = session.get(TOKEN_KEY)
    if not token or not form_token or not hmac.compare_digest(token, form_token):
        return False
    return same_origin(host_url, origin, referer)


def page_headers(headers) -> None:
    """Security headers of every page (the card route sets its own CSP)."""
    headers.setdefault("Content-Security-Policy", PAGE_CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cache-Control"] = "no-store"
