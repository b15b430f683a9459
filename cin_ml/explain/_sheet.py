"""One-page HTML explanation sheet for one student (school staff and parents), fr or en.

The sheet carries only the pseudonymous student id: no name, code permanent, birth date or
postal code ever reaches it (the explain step never receives them; :func:`render_sheet`
refuses a student id shaped like a code permanent as a last guard).
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import lru_cache
from importlib import resources

from cin_ml.errors import PolicyError
from cin_ml.tasks import task_label

from ._reasons import LANGS, StudentExplanation
from ._render import text_template

_CODE_PERMANENT = re.compile(r"^[A-Z]{4}\d{8}$")


@lru_cache(maxsize=1)
def sheet_text() -> dict:
    """Wording of the sheet, ``{lang: {...}}`` (``templates/sheet_text.toml``)."""
    raw = resources.files("cin_ml.explain").joinpath("templates/sheet_text.toml").read_bytes()
    return tomllib.loads(raw.decode("utf-8"))


def render_sheet(explanation: StudentExplanation, *, lang: str = "fr", task: str,
                 contact: str, model_ref: str = "", produced: date | None = None) -> str:
    """Render the explanation sheet of one student.

    Parameters
    ----------
    explanation
        The student's reasons (from ``explain_students``).
    lang
        ``"fr"`` (default) or ``"en"``.
    task
        Prediction task (``ecriture_4e`` or ``decrochage``), described in plain words.
    contact
        Whom to ask (``[sheet] contact_fr/contact_en`` in ``configs/explain.toml``).
    model_ref
        Model name/version or run id printed in the footer.
    produced
        Date printed on the sheet (default: today).

    Returns
    -------
    str
        A self-contained HTML page (no external resource).
    """
    if lang not in LANGS:
        raise PolicyError(f"[explain] lang must be one of {', '.join(LANGS)}; got '{lang}'")
    if _CODE_PERMANENT.match(explanation.student_id.upper()):
        raise PolicyError(f"[explain] student id '{explanation.student_id[:4]}…' looks like a "
                          "code permanent: sheets carry pseudonymous ids only "
                          "(run cin-ml deidentify first)")
    t = sheet_text()[lang]
    fams = []
    for r in explanation.reasons:
        if r.named and r.family not in fams:
            fams.append(r.family)
    actions = [t["actions"].get(f, t["actions"]["autre"]) for f in fams]
    actions.append(t["actions"]["default"])
    return text_template("sheet.html.j2").render(
        lang=lang, t=t, student_id=explanation.student_id,
        task_text=task_label(task, "risk", lang), produced=(produced or date.today()).isoformat(),
        flagged=explanation.flagged, reasons=[r.text(lang) for r in explanation.reasons],
        protective=[r.text(lang) for r in explanation.protective], actions=actions,
        contact=contact, model_ref=model_ref)
