"""The card's rolling-origin table, stability sentence, size rules and MDD notes."""

from __future__ import annotations


def test_card_shows_each_test_cohort_and_how_stable_it_is(made, card, rendering):
    cohorts = sorted(made.result.test["cohort_year"].unique())
    assert [r.cohort for r in card.metrics.cohorts] == cohorts
    assert card.evaluation_data.cohorts == tuple(cohorts)
    for r, part in zip(card.metrics.cohorts,
                       (made.result.test[made.result.test["cohort_year"] == c]
                        for c in cohorts), strict=True):
        assert r.n == len(part)
        assert r.auc.low <= r.auc.estimate <= r.auc.high
    fr, en = rendering.file("card.fr.md"), rendering.file("card.en.md")
    assert "validation à origine glissante" in fr and "rolling-origin validation" in en
    assert f"Sur les {len(cohorts)} cohortes de test ({cohorts[0]} à {cohorts[-1]})" in fr
    assert f"Over the {len(cohorts)} test cohorts ({cohorts[0]} to {cohorts[-1]})" in en
    for c in cohorts:
        assert f"| {c} | " in fr and f"| {c} | " in en
    # the two size rules, named separately, and the ceiling actually applied
    assert "taille du groupe" in fr and "nombre d'issues" in fr
    assert "group size" in en and "outcome count" in en
    assert "times the model's overall rate" in en


def test_every_inconclusive_glance_verdict_states_its_mdd(card, rendering):
    fair = card.fairness
    singles = [b for b in fair.breakdowns if "×" not in b.name]
    inconclusive = [b for b in singles if b.verdicts.get(fair.primary_metric) == "inconclusive"]
    for b in inconclusive:
        assert b.mdd.get(fair.primary_metric, 0) > fair.tolerances["fnr"]["difference"]
    en = rendering.file("card.en.md")
    assert en.count("only a gap of at least") == len(inconclusive)
    for b in singles:
        if b.verdicts.get(fair.primary_metric) != "inconclusive":
            assert fair.primary_metric not in b.mdd


def test_calibration_within_groups_beside_the_fnr_verdicts(made, card, rendering):
    rows = card.fairness.calibration_groups
    test = made.result.test
    from cin_ml.fairness import load_policy

    assert {r.attribute for r in rows} == set(load_policy().attributes)
    for r in rows:
        if r.n is None:
            continue
        n = int((test[r.attribute].astype(str) == r.group).sum())
        assert r.n == n
        if r.verdict in ("pass", "fail", "inconclusive"):
            assert r.intercept.low <= r.intercept.estimate <= r.intercept.high
            assert r.slope.low <= r.slope.estimate <= r.slope.high
    assert "Calibration within groups" in rendering.file("card.en.md")
    assert "Calibration à l'intérieur des groupes" in rendering.file("card.fr.md")


def test_card_says_why_it_has_more_or_fewer_test_cohorts_than_configured():
    """The power rule's K, stated from the run's own numbers in both languages; nothing when
    K is the configured one."""
    from cin_ml.cards._over_time import over_time, stability_sentence
    from cin_ml.cards._view import strings
    from cin_ml.glossary import fmt_number

    iv = {"estimate": 0.8, "low": 0.75, "high": 0.85}
    row = {"n": 1200, "event_rate": 0.15, "auc": iv, "recall_at_capacity": iv}

    def sentence(lang, k, k0, need, got):
        rolling = {"k": k, "k_configured": k0, "min_test_at_risk": need, "test_at_risk": got,
                   "cohorts": [{**row, "cohort": 2010 + i} for i in range(k)],
                   "stability": {"auc_range": [0.8, 0.8], "recall_range": [0.5, 0.5]}}
        rows, st = over_time(rolling)
        return stability_sentence(rows, st, strings(lang), lambda x, d: fmt_number(x, lang, d))

    fr, en = sentence("fr", 9, 3, 2000, 1788), sentence("en", 9, 3, 2000, 1788)
    assert "de 3 (par défaut) à 9" in fr and fmt_number(1788, "fr", 0) in fr
    assert "the most the labelled cohorts allow" in en and "1,788" in en and "2,000" in en
    en = sentence("en", 4, 3, 2000, 2307)
    assert "from 3 (the default) to 4 to pool at least 2,000" in en and "they hold 2,307" in en
    assert "Only 2 test cohort(s) instead of 3" in sentence("en", 2, 3, 2000, 300)
    assert "test cohorts rises" not in sentence("en", 3, 3, 2000, 2500)
    assert sentence("en", 3, 3, 2000, 2500).startswith("Over the 3 test cohorts")
