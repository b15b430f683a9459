"""One-page HTML explanation sheet for one student (school staff and parents), fr or en.

The sheet carries only the student id, named for what it is (a pseudonym only when it is
one, :data:`ID_KINDS`): no name, code permanent, birth date or postal code ever reaches it
(the explain step never receives them; :func:`render_sheet` refuses a student id shaped
like a code permanent as a last guard). A student the model does not flag gets no risk
reason: the sheet says the model does not flag them, and recommends no subject support.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from functools import lru_cache
from importlib import resources

from cin_ml.errors import PolicyError
from cin_ml.tasks import task_label

from ._reasons import LANGS, StudentExplanation, format_points
from ._render import text_template

_CODE_PERMANENT = re.compile(r"^[A-Z]{4}\d{8}$")


@lru_cache(maxsize=1)
def sheet_text() -> dict:
    """Wording of the sheet, ``{lang: {...}}`` (``templates/sheet_text.toml``)."""
    raw = resources.files("cin_ml.explain").joinpath("templates/sheet_text.toml").read_bytes()
    return tomllib.loads(raw.decode("utf-8"))


ID_KINDS = ("pseudonym", "record", "synthetic")
"""What a sheet's student id is: a keyed pseudonym (de-identified data), the school's own
record number (the source extract a school scores), or the code of a virtual record."""


def render_sheet(explanation: StudentExplanation, *, lang: str = "fr", task: str,
                 contact: str, model_ref: str = "", produced: date | None = None,
                 id_kind: str = "pseudonym", materiality_points: float = 1.0) -> str:
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
    id_kind
        What the id is (:data:`ID_KINDS`): the sheet calls it a pseudonym only when it is one.
    materiality_points
        The reasons' materiality, stated in the note under them.

    Returns
    -------
    str
        A self-contained HTML page (no external resource).
    """
    if lang not in LANGS:
        raise PolicyError(f"[explain] lang must be one of {', '.join(LANGS)}; got '{lang}'")
    if id_kind not in ID_KINDS:
        raise PolicyError(f"[explain] id_kind must be one of {', '.join(ID_KINDS)}; "
                          f"got '{id_kind}'")
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
    label = {"pseudonym": t["student"], "record": t["student_record"],
             "synthetic": t["student_synthetic"]}[id_kind]
    return text_template("sheet.html.j2").render(
        lang=lang, t=t, student_id=explanation.student_id, student_label=label,
        summary=explanation.summary(lang),
        materiality=format_points(materiality_points, lang).lstrip("+"),
        task_text=task_label(task, "risk", lang), produced=(produced or date.today()).isoformat(),
        flagged=explanation.flagged, reasons=[r.text(lang) for r in explanation.reasons],
        protective=[r.text(lang) for r in explanation.protective], actions=actions,
        contact=contact, model_ref=model_ref)
