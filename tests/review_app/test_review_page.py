"""The committee's review page in a real browser (Playwright + Debian's Chromium): decisions
go through the registry exactly as ``cin-ml review`` does, refusals are messages on the page,
forms resist cross-site forgery, stored strings are escaped, and screenshots are written for
a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.governance._runs import AUTHOR, FAIRNESS_FAILS, tamper_card

from ._store import COMMITTEE, MODEL

SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"
FAILS = sorted(f"{b}:{m}" for b, m in FAIRNESS_FAILS.items())


def _ctx():
    from tests.governance._policy import make_test_ctx

    return make_test_ctx()


def _card_file(runs, name: str) -> Path:
    from mlflow import MlflowClient

    from tests.governance._runs import _artifact_dir

    return _artifact_dir(MlflowClient(), runs.pending_run) / "card" / name


def shoot(page, name: str, width: int) -> None:
    """The whole page at ``width`` px, for a person to look at. The viewport is made as tall
    as the page (a full-page capture leaves the sandboxed card frame blank off-screen)."""
    page.set_viewport_size({"width": width, "height": 900})
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": width, "height": height})
    if page.locator("iframe.card").count():
        page.frame_locator("iframe.card").locator("h1").first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / name))
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page, url: str, name: str) -> None:
    page.goto(f"{url}/")
    assert "/signin" in page.url
    page.fill("#name", name)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def open_version(page, url: str, version: str, lang: str = "fr"):
    resp = page.goto(f"{url}/models/{MODEL}/versions/{version}?lang={lang}")
    assert resp.status == 200
    return resp


def submit(page, decision: str, *, comment: str = "", conditions: str = "",
           accept=()) -> int:
    page.check(f"input[name=decision][value={decision}]")
    page.fill("#comment", comment)
    page.fill("#conditions", conditions)
    for f in accept:
        page.check(f"input[name=accept][value='{f}']")
    with page.expect_navigation() as nav:
        page.click("#decision button[type=submit]")
    resp = nav.value
    # a redirect (303) after success lands on the version page (200)
    return resp.status if resp is not None else 0


def test_committee_member_approves_with_a_condition_and_the_history_shows_it(
        page, app_url, review_store):
    from cin_ml.registry import history, version_record

    v = review_store["pending"]
    sign_in(page, app_url, COMMITTEE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{app_url}/")
    pending = page.locator("section.model h3", has_text="En attente")
    assert pending.count() == 1
    assert page.locator(f"a.open[href$='/versions/{v}']").count() == 1
    for width in (1280, 390):
        shoot(page, f"review_queue_{width}.png", width)

    open_version(page, app_url, v)
    shown = page.locator("#card-hash").inner_text().strip()
    assert shown == version_record(_ctx(), MODEL, v)["card_sha256"]
    boxes = page.locator("input[name=accept]")
    assert sorted(boxes.nth(i).get_attribute("value") for i in range(boxes.count())) == FAILS
    assert page.locator("#fairness .badge.v-fail").count() >= len(FAILS)
    assert page.locator("#diff table").count() == 1, "no diff against the champion"
    assert page.frame_locator("iframe.card").locator("h1").count() >= 1
    for width in (1280, 390):
        shoot(page, f"review_version_{width}.png", width)

    status = submit(page, "approve", comment="Pilote supervisé.",
                    conditions="Réviser après un an d'utilisation.", accept=FAILS)
    assert status == 200, page.locator(".alert.bad").all_inner_texts()
    assert page.locator(".alert.good[role=status]").count() == 1
    row = page.locator("#history tr.ev-review").first
    assert COMMITTEE in row.inner_text()
    assert "Réviser après un an" in page.locator(".conditions").inner_text()
    # the same event as `cin-ml review`: type, actor, decision bound to the card shown
    ev = history(_ctx(), MODEL)[-1]
    assert (ev.type, ev.actor, ev.version) == ("review", COMMITTEE, v)
    assert ev.details["decision"] == "approved"
    assert ev.details["card_sha256"] == shown
    assert sorted(ev.details["accepted_fairness"]) == FAILS
    rec = version_record(_ctx(), MODEL, v)
    assert rec["state"] == "approved"
    assert rec["review"]["conditions"] == "Réviser après un an d'utilisation."
    page.goto(f"{app_url}/")
    assert page.locator("section.model h3", has_text="Approuvée").count() == 1
    assert page.locator("section.model h3", has_text="En attente").count() == 0


def test_a_data_scientist_is_refused_on_the_page(page, app_url, review_store):
    from cin_ml.registry import history, version_record

    v = review_store["pending"]
    sign_in(page, app_url, AUTHOR)
    assert page.locator(".role.warn").count() == 1  # told before trying
    open_version(page, app_url, v)
    status = submit(page, "approve", comment="Je valide mon propre modèle.")
    assert status == 403
    msg = page.locator("#refusal").inner_text()
    assert f"« {AUTHOR} » n'est pas membre du comité d'éthique" in msg
    assert "Traceback" not in page.content()
    assert version_record(_ctx(), MODEL, v)["state"] == "pending"
    ev = history(_ctx(), MODEL)[-1]
    assert (ev.type, ev.actor) == ("review.refused", AUTHOR)


def test_a_card_changed_after_the_page_was_opened_is_refused(page, app_url, review_store):
    from cin_ml.registry import version_record

    v = review_store["pending"]
    sign_in(page, app_url, COMMITTEE)
    open_version(page, app_url, v)
    tamper_card(review_store["runs"].pending_run)  # card.json, as the registry hashes it
    html = _card_file(review_store["runs"], "card.fr.html")  # and what the committee reads
    html.write_text(html.read_text(encoding="utf-8").replace(
        "</body>", "<p>Also used to rank teachers.</p></body>"), encoding="utf-8")
    status = submit(page, "approve", comment="ok", accept=FAILS)
    assert status == 409
    assert "fiche altérée" in page.locator("#refusal").inner_text()
    assert page.locator("#card-changed").count() == 1  # the reloaded page says why
    # the card itself is no longer served: it is not the registered one
    card = page.request.get(f"{app_url}/models/{MODEL}/versions/{v}/card.fr.html")
    assert card.status == 409
    assert version_record(_ctx(), MODEL, v)["state"] == "pending"


def test_a_decision_bound_to_another_card_hash_is_refused(page, app_url, review_store):
    from cin_ml.registry import version_record

    v = review_store["pending"]
    sign_in(page, app_url, COMMITTEE)
    open_version(page, app_url, v)
    page.locator("input[name=card_sha256]").evaluate("e => e.value = '0'.repeat(64)")
    assert submit(page, "approve", comment="ok", accept=FAILS) == 409
    assert "000000000000" in page.locator("#refusal").inner_text()
    assert version_record(_ctx(), MODEL, v)["state"] == "pending"


def test_a_post_without_a_valid_token_or_from_another_origin_is_refused(
        page, app_url, review_store):
    from cin_ml.registry import history

    v = review_store["pending"]
    sign_in(page, app_url, COMMITTEE)
    open_version(page, app_url, v)
    token = page.locator("#decision input[name=csrf_token]").get_attribute("value")
    sha = page.locator("input[name=card_sha256]").get_attribute("value")
    before = len(history(_ctx(), MODEL))
    target = f"{app_url}/models/{MODEL}/versions/{v}/decision"
    form = {"decision": "approve", "comment": "forged", "card_sha256": sha}
    same = {"Origin": app_url}
    for data, headers in (
            (form, same),                                             # no token
            ({**form, "csrf_token": "x" * len(token)}, same),         # wrong token
            ({**form, "csrf_token": token}, {"Origin": "http://evil.example"}),  # other site
            ({**form, "csrf_token": token}, {"Origin": "null"})):
        resp = page.request.post(target, form=data, headers=headers, max_redirects=0)
        assert resp.status == 403, (data.keys(), headers)
        assert "jeton de sécurité" in resp.text()
    assert len(history(_ctx(), MODEL)) == before  # nothing recorded
    cookie = next(c for c in page.context.cookies() if c["name"] == "cin_ml_review")
    assert cookie["sameSite"] == "Strict" and cookie["httpOnly"]


def test_stored_strings_are_escaped(page, app_url, review_store):
    sign_in(page, app_url, COMMITTEE)
    open_version(page, app_url, review_store["champion"])
    conditions = page.locator(".conditions").inner_text()
    assert conditions.startswith("<script>window.__pwned = 1</script>")
    assert page.evaluate("window.__pwned") is None
    assert "&lt;script&gt;window.__pwned" in page.content()
    # a comment typed on the page comes back escaped too (rejection of the pending version)
    open_version(page, app_url, review_store["pending"])
    assert submit(page, "reject", comment="<img src=x onerror=window.__pwned=2>") == 200
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#history td.stored", has_text="<img src=x").count() >= 1


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_pages_speak_one_language(page, app_url, review_store, lang):
    from cin_ml.review_app._i18n import strings

    s, other = strings(lang), strings("en" if lang == "fr" else "fr")
    sign_in(page, app_url, COMMITTEE)
    open_version(page, app_url, review_store["pending"], lang)
    assert page.locator("html").get_attribute("lang") == lang
    headings = page.locator("main h2").all_inner_texts()
    for key in ("summary", "card", "verdicts", "indicator", "consent", "diff", "history",
                "decision"):
        assert s[key] in headings, key
        assert other[key] not in headings or other[key] == s[key]
    text = page.locator("#indicator").inner_text()
    number = re.search(r"\d[\d\s ]*[.,]\d{3}", text).group(0)
    assert ("," in number) == (lang == "fr"), number  # locale-correct decimals
    page.goto(f"{app_url}/")  # the choice sticks for the session
    assert page.locator("h1").inner_text() == s["queue"]
