"""The maintained word lists of the every-page language test (tests/test_page_language.py):
a French page may hold no word of English and an English page no word of French, nor any raw
key of the code. Add a word here when a page was caught speaking the other language; never
remove one to make a page pass.

Lists hold words that exist in one language only (``absences``, ``suspension``, ``conditions``,
``total``, ``minimum``, ``version``, ``AUC``... are the same in both and are not listed)."""

from __future__ import annotations

import html as _html
import re

EN_ONLY = frozenset("""
the and of with without for from this that these those which who whose when where while is
are was were be been being has have had will would should could may might must not no none
yes unknown other others any every each all both only also than then student students school
schools teacher teachers child children rate rates model models run runs finished failed
running killed pending approved rejected reviewed review reviewer expires expired capacity
virtual deidentified de-identified fairness audited group groups reference interval
confidence threshold served flag flagged flagging finds find missed mark marks grades
reading writing problem solving reasoning absence illness appointment family unexcused
reason reasons retention retentions changes mother education advantaged disadvantaged middle
boys girls speaking generation first second third active inactive sex language socio-
economic data synthetic copy privacy fidelity utility quality validity share shares closer
training evaluation tested held out holdout calibrated gap error expected false negative
positive true precision recall overlap drivers driver mean lowest last trend variability
number below above features feature used excluded justified sensitive identifier workforce
target consent agreement agreements retention valid until decision serving trial candidate
provided chance perfect ceiling simulated real declared author card ready draft summary
committee ethics human oversight recourse report list predicts prediction predicted risk at-
risk
""".split())  # noqa: SIM905
"""English words a French page must not hold (lower case)."""

FR_ONLY = frozenset("""
le la les un une des du de et ou est sont été avec sans pour par dans sur sous selon qui que
quoi dont où cette ces ce cet aux au leur leurs élève élèves école écoles enseignant
enseignants enfant enfants taux modèle modèles exécution terminée échouée approuvé rejeté
révisé réviseur révision capacité virtuel dépersonnalisé dépersonnalisées équité groupe
groupes référence intervalle confiance seuil signalé signalés signalement repère repérés
résultat résultats année lecture écriture résolution problèmes raisonnement mathématique
maladie rendez-vous familiale motivées motif redoublements changements mère scolarité
favorisé défavorisé moyen garçons filles francophones anglophones allophones génération 1re
2e 3e d'intervention sexe groupe linguistique milieu socio-économique données synthétiques
copie confidentialité fidélité utilité qualité validité proches entraînement évaluation
écart erreur attendue faux négatifs positifs précision rappel rapport recouvrement facteurs
principaux moyenne dernier évolution nombre utilisées exclues sensibles identifiant
personnel cible entente ententes conservation valide jusqu'au décision essai candidat
renseigné hasard parfait plafond simulées réelles déclarée auteur fiche prête brouillon
résumé comité éthique supervision humaine recours rapport liste prédit prédiction risque à
""".split())  # noqa: SIM905
"""French words an English page must not hold (lower case)."""

RAW_CODES = frozenset({"fnr", "fpr", "fdr", "imse_band", "pct"})
"""Short codes of the project a reader never reads as words (any case)."""

_HEX = re.compile(r"\b(?=[0-9a-f]*[0-9])[0-9a-f]{12,}\b")
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_DOTTED = re.compile(r"\b[a-z][a-z_]*\.[a-z][a-z0-9_]*\b")
_WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’-]*")
_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1>", re.S | re.I)
_CODE = re.compile(r"<code\b[^>]*>.*?</code>", re.S | re.I)
_VERBATIM = re.compile(r"<(span|q|blockquote)\b[^>]*\bdata-verbatim\b[^>]*>.*?</\1>",
                       re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


def visible_text(page: str, keep_code: bool = True) -> str:
    """The words a reader sees: no head, script or style, no markup, entities decoded;
    ``<code>``
    blocks (run ids, hashes, file paths a reader may need to quote) and what a person typed
    (``data-verbatim``: a reviewer's comment and conditions) left out unless ``keep_code``."""
    text = _HIDDEN.sub(" ", page)
    if not keep_code:
        text = _VERBATIM.sub(" ", _CODE.sub(" ", text))
    return _html.unescape(_TAG.sub(" ", text))


def page_lang(page: str) -> str | None:
    m = re.search(r"<html[^>]*\blang=\"([a-z-]+)\"", page, re.I)
    return m.group(1) if m else None


def other_language_labels(lang: str) -> dict[str, str]:
    """The glossary's labels in the other language that are not also words of ``lang``:
    ``{label: key}`` (a French page must not say "Mean mark", nor an English one
    "Résultat moyen")."""
    from cin_ml.glossary import glossary_keys, labels

    other = "en" if lang == "fr" else "fr"
    own_text = " ".join(labels(k)[lang].lower() for k in glossary_keys())
    out = {}
    for key in glossary_keys():
        both = labels(key)
        phrase = both[other]
        if (phrase.lower() != both[lang].lower() and len(phrase) >= 8 and " " in phrase
                and phrase.lower() not in own_text):
            out[phrase] = key
    return out


def language_problems(page: str, lang: str) -> list[str]:
    """Everything on ``page`` that is not ``lang`` for its reader: a wrong ``lang``
    attribute, a raw key (snake_case or ``section.code``), a glossary key, a word or a
    glossary label of the other language."""
    from cin_ml.glossary import glossary_keys

    problems = []
    if page_lang(page) != lang:
        problems.append(f"<html lang> is {page_lang(page)!r}, not {lang!r}")
    # ids and hashes (hex) are references, not words: their letters must not read as "de"
    text = _HEX.sub(" ", visible_text(page, keep_code=False))
    for m in sorted(set(_SNAKE.findall(text))):
        problems.append(f"raw key {m!r}")
    keys = set(glossary_keys())
    for m in sorted(set(_DOTTED.findall(text))):
        if m in keys or "_" in m:
            problems.append(f"raw key {m!r}")
    words = {w.lower().strip("'’-") for w in _WORD.findall(text)}
    for w in sorted(words & RAW_CODES):
        problems.append(f"raw code {w!r}")
    foreign = EN_ONLY if lang == "fr" else FR_ONLY
    for w in sorted(words & foreign):
        problems.append(f"{'English' if lang == 'fr' else 'French'} word {w!r}")
    low = " ".join(text.split()).lower()
    for phrase, key in sorted(other_language_labels(lang).items()):
        if phrase.lower() in low:
            problems.append(f"{'English' if lang == 'fr' else 'French'} label {phrase!r} "
                            f"({key})")
    return problems
