"""The registry's refusal reasons (English, as the CLI prints them) in the page's language.

Only the reasons a committee member meets on this page are rephrased; anything else is
shown as the registry wrote it."""

from __future__ import annotations

import re

_PREFIX = re.compile(r"^review of \S+ v\d+ refused: ")

_FR = (
    (r"'([^']*)' is not a member of the ethics committee \(governance\.toml \[people\] "
     r"committee\)", r"« \1 » n'est pas membre du comité d'éthique (governance.toml [people] "
     r"committee)"),
    (r"'([^']*)' is the author of (\S+) v(\d+) and may not review it",
     r"« \1 » est l'auteur·e de \2 v\3 et ne peut pas la réviser"),
    (r"a rejection needs a comment saying why", "un rejet doit être motivé par un commentaire"),
    (r"--expires (\S+) must be between today \((\S+)\) and (\S+) \(\[approval\] "
     r"max_validity_days\)", r"la fin de l'approbation (\1) doit être entre aujourd'hui (\2) "
     r"et le \3 ([approval] max_validity_days)"),
    (r"tampered card: the run's card changed since registration",
     "fiche altérée : la fiche de l'exécution a changé depuis l'enregistrement"),
    (r"accepted fairness fail\(s\) (.*?) match no fail verdict of this version",
     r"échec(s) d'équité accepté(s) \1 ne correspondant à aucun échec de cette version"),
    (r"comment ≤ (\d+) and conditions ≤ 1000 characters",
     r"commentaire de \1 caractères au plus et conditions de 1000 au plus"),
    (r"the governance history failed verification, so no governance action is taken",
     "l'historique de gouvernance ne se vérifie pas : aucune action de gouvernance n'est "
     "prise"),
    (r" changed since registration", " modifié depuis l'enregistrement"),
    (r" removed since registration", " supprimé depuis l'enregistrement"),
)


def refusal_text(message: str, lang: str) -> str:
    """``message`` (a CinMLError's text) for a page in ``lang``."""
    text = _PREFIX.sub("", message)
    if lang != "fr":
        return text
    for pattern, repl in _FR:
        text = re.sub(pattern, repl, text)
    return text
