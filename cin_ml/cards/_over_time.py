"""Card evidence over time: the rolling-origin test cohorts and how stable they are."""

from __future__ import annotations

from collections.abc import Mapping

from cin_ml.cards._schema import CohortRow, Interval, Stability

__all__ = ["over_time", "stability_sentence"]


def _iv(d: Mapping | None) -> Interval:
    d = d or {}
    return Interval(estimate=d.get("estimate"), low=d.get("low"), high=d.get("high"))


def over_time(rolling: Mapping | None) -> tuple[tuple[CohortRow, ...], Stability | None]:
    """Per-cohort rows and stability from ``evaluation/metrics.json["rolling"]`` (absent for
    runs made before rolling-origin validation: no rows)."""
    if not rolling or not rolling.get("cohorts"):
        return (), None
    rows = tuple(CohortRow(cohort=int(r["cohort"]), n=int(r["n"]), event_rate=r.get("event_rate"),
                           auc=_iv(r.get("auc")),
                           recall_at_capacity=_iv(r.get("recall_at_capacity")),
                           calibration_intercept=_iv(r.get("calibration_intercept")),
                           calibration_slope=_iv(r.get("calibration_slope")),
                           ece=_iv(r.get("ece")))
                 for r in rolling["cohorts"])
    st = rolling.get("stability") or {}
    auc, rec = st.get("auc_range") or [None, None], st.get("recall_range") or [None, None]
    return rows, Stability(auc_low=auc[0], auc_high=auc[1], recall_low=rec[0],
                           recall_high=rec[1],
                           intervals_overlap=bool(st.get("intervals_overlap", True)),
                           lowest_auc_cohort=st.get("lowest_auc_cohort"),
                           k_configured=rolling.get("k_configured"),
                           min_test_at_risk=rolling.get("min_test_at_risk"),
                           test_at_risk=rolling.get("test_at_risk"))


def stability_sentence(rows: tuple[CohortRow, ...], st: Stability | None, s: dict,
                       num) -> str:
    """One plain sentence on how stable performance is across the test cohorts."""
    if not rows or st is None:
        return ""
    first, last = rows[0].cohort, rows[-1].cohort
    text = s["stab_range"].format(k=len(rows), first=first, last=last,
                                  auc_lo=num(st.auc_low, 3), auc_hi=num(st.auc_high, 3),
                                  rec_lo=num(st.recall_low, 2), rec_hi=num(st.recall_high, 2))
    verdict = s["stab_stable"] if st.intervals_overlap else s["stab_moves"]
    return " ".join(x for x in (_why_k(len(rows), st, s, num), text,
                                verdict.format(worst=st.lowest_auc_cohort)) if x)


def _why_k(k: int, st: Stability, s: dict, num) -> str:
    """Why there are K test cohorts when K is not models.toml's ``test_cohorts``: the power
    rule added cohorts (reaching its target of at-risk students, or as many as the labelled
    cohorts allow), or the data allowed fewer."""
    k0 = st.k_configured
    if not k0 or k == k0:
        return ""
    if k < k0:
        return s["k_fewer"].format(k=k, k0=k0)
    need, got = st.min_test_at_risk or 0, st.test_at_risk or 0
    key = "k_more" if got >= need else "k_most"
    return s[key].format(k=k, k0=k0, need=num(need, 0), n=num(got, 0))
