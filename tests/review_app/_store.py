"""The review page's store: the governance template's runs (``gov_runs``), governed.

The page needs one approved champion and one version awaiting a decision whose card has two
fairness fails: the template's ``ready`` run and its ``fairness_fails`` copy (card built,
then its logged audit rewritten with fails), trained once per session for the governance
tests too. :func:`govern` registers the first run, has the committee approve it and an
operator promote it to ``@champion``, and registers the second as a pending version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.governance._policy import make_test_ctx
from tests.governance._runs import AUTHOR, GovRuns

COMMITTEE, OTHER_MEMBER = "a.tremblay", "m.gagnon"
OPERATOR = "ops.bouchard"
MODEL = "cin-ecriture-4e"


@dataclass(frozen=True)
class ReviewRuns:
    root: Path  # holds mlflow.db and artifacts/
    champion_run: str
    pending_run: str

    @classmethod
    def of(cls, runs: GovRuns, root: Path | None = None) -> ReviewRuns:
        """The champion-to-be and the pending run of the governance template (or of its copy
        at ``root``: same run ids)."""
        return cls(root or runs.root, runs.ids["ready"], runs.ids["fairness_fails"])


def govern(runs: ReviewRuns) -> dict[str, str]:
    """v1 approved (with a condition) and promoted to @champion; v2 pending, by the author.
    Returns the version numbers."""
    from cin_ml.registry import promote, register, review

    ctx = make_test_ctx()
    v1 = str(register(ctx, runs.champion_run, author=AUTHOR)["version"])
    review(ctx, MODEL, v1, reviewer=OTHER_MEMBER, approve=True, comment="ok",
           conditions="<script>window.__pwned = 1</script> monitor every year")
    promote(ctx, MODEL, v1, operator=OPERATOR, why="approved")
    v2 = str(register(ctx, runs.pending_run, author=AUTHOR)["version"])
    return {"champion": v1, "pending": v2}
