"""What every step shares: the progress callback."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    """Default progress callback: say nothing."""


def load_publishable_run(run_id: str, what: str, progress: Progress = _quiet, store=None):
    """The run's bundle (``store``: a Store, URI or RunReader), refusing runs not trained
    on virtual or de-identified data (their outputs would be published): ``what`` names the
    outputs in the error."""
    from cin_ml.errors import PolicyError
    from cin_ml.run_contract import PUBLISHABLE_FORMS
    from cin_ml.tracking import load_run_bundle

    progress(f"loading run {run_id}")
    bundle = load_run_bundle(run_id, store)
    form = bundle.data_form
    if form not in PUBLISHABLE_FORMS:
        raise PolicyError(f"run {run_id} was trained on data_form={form!r}: {what} only for "
                          "virtual or de-identified data (run cin-ml deidentify first)")
    return bundle
