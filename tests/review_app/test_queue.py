"""What the page reads from the registry (``registry.review_queue`` / ``version_record`` /
``card_rendering``), without a browser, on the review page's governed store."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.governance._policy import TODAY, make_test_ctx

from ._store import MODEL, OTHER_MEMBER


def test_the_queue_groups_versions_by_state_and_expires_past_approvals(review_store):
    from cin_ml.registry import review_queue

    q = review_queue(make_test_ctx())
    assert q["history_problems"] == []
    (m,) = q["models"]
    assert (m["model"], m["task"], m["champion"]) == (MODEL, "ecriture_4e",
                                                      review_store["champion"])
    assert [r["version"] for r in m["versions"]["pending"]] == [review_store["pending"]]
    (approved,) = m["versions"]["approved"]
    assert approved["reviewer"] == OTHER_MEMBER and approved["aliases"] == ["champion"]
    assert approved["expires"] == (TODAY + dt.timedelta(days=365)).isoformat()
    assert m["versions"]["pending"][0]["fairness_fails"] == ["language_group:fnr", "sex:fnr"]
    later = review_queue(make_test_ctx(TODAY + dt.timedelta(days=366)))["models"][0]
    assert [r["version"] for r in later["versions"]["expired"]] == [review_store["champion"]]
    assert later["counts"] == {"pending": 1, "breached": 0, "approved": 0, "rejected": 0,
                              "expired": 1}


def test_a_changed_card_file_is_named_and_no_longer_served(review_store):
    from mlflow import MlflowClient

    from cin_ml.errors import GovernanceError
    from cin_ml.registry import card_rendering, version_record
    from tests.governance._runs import _artifact_dir

    ctx, v = make_test_ctx(), review_store["pending"]
    assert version_record(ctx, MODEL, v)["evidence_changes"] == []
    assert card_rendering(ctx, MODEL, v, "en").startswith(b"<!")
    html = _artifact_dir(MlflowClient(), review_store["runs"].pending_run) / "card" / \
        "card.en.html"
    html.write_bytes(html.read_bytes().replace(b"</body>", b"<p>edited</p></body>"))
    assert version_record(ctx, MODEL, v)["evidence_changes"] == [
        "card/card.en.html changed since registration"]
    with pytest.raises(GovernanceError, match="not the card registered"):
        card_rendering(ctx, MODEL, v, "en")
    with pytest.raises(GovernanceError, match="never registered"):
        version_record(ctx, MODEL, "99")
