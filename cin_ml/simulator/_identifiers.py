"""Realistic direct identifiers for simulated students: French-Canadian (and other) names,
the MEQ *code permanent*, birth dates and Quebec postal codes (G, H, J).

Code permanent format: the first three letters of the last name, the first letter of the
first name, then day of birth (2 digits), month of birth (2 digits, +50 for girls), year of
birth (2 digits) and 2 distinguishing digits — 4 letters + 8 digits.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

LAST_FR = ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leblanc", "Paquette", "Girard", "Simard", "Boucher", "Caron", "Beaulieu", "Cloutier", "Dubé", "Poirier", "Fournier", "Lapointe", "Leclerc", "Lefebvre", "Poulin", "Thibault", "St-Pierre", "Nadeau", "Martin", "Landry", "Martel", "Bédard", "Grenier", "Lessard", "Bernier", "Richard", "Michaud", "Hébert", "Desjardins", "Couture", "Turcotte", "Lachance", "Parent", "Blais", "Gosselin", "Savard", "Proulx", "Beaudoin", "Demers", "Perreault", "Boudreau", "Lemieux", "Cyr", "Perron", "Dufour", "Dion", "Mercier", "Bolduc", "Bérubé", "Boisvert", "Langlois", "Ménard", "Therrien", "Plante", "Bilodeau", "Labbé", "Vachon", "Jacques", "Gingras", "Leduc", "Tessier", "Villeneuve", "Charbonneau"]
LAST_EN = ["Smith", "Brown", "Wilson", "Taylor", "Johnson", "Campbell", "Stewart", "MacDonald", "Murphy", "Kelly", "Robertson", "Thompson", "Scott", "Young", "Miller", "Ryan", "O'Brien", "Walsh", "Clarke", "Fraser"]
LAST_ALLO = ["Nguyen", "Haddad", "Diallo", "Rodriguez", "Chen", "Khan", "Joseph", "Pierre", "Singh", "Ali", "Benali", "Tran", "Gonzalez", "Mohamed", "Kaur", "Traoré", "Santos", "Wang", "Jean-Baptiste", "Hamdi"]
FIRST_F = ["Léa", "Emma", "Olivia", "Alice", "Florence", "Charlotte", "Rosalie", "Juliette", "Béatrice", "Zoé", "Livia", "Chloé", "Mia", "Clara", "Camille", "Maëlle", "Laurence", "Jade", "Éloïse", "Noémie", "Sarah", "Anaïs", "Ève", "Amélie", "Élodie", "Gabrielle", "Maude", "Mégane", "Justine", "Océane"]
FIRST_M = ["William", "Liam", "Thomas", "Noah", "Jacob", "Léo", "Nathan", "Édouard", "Logan", "Félix", "Arthur", "Raphaël", "Charles", "Émile", "Louis", "Olivier", "Samuel", "Gabriel", "Zack", "Antoine", "Alexis", "Mathis", "Xavier", "Vincent", "Hugo", "Justin", "Benjamin", "Étienne", "Jérémy", "Maxime"]


def _ascii_upper(name: str) -> str:
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in s.upper() if ch.isalpha())


def names(rng: np.random.Generator, sex: np.ndarray, language: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """First and last names by sex and language group."""
    n = len(sex)
    first = np.where(sex == "F", np.array(FIRST_F, dtype=object)[rng.integers(0, len(FIRST_F), n)],
                     np.array(FIRST_M, dtype=object)[rng.integers(0, len(FIRST_M), n)])
    pools = {"francophone": LAST_FR, "anglophone": LAST_EN, "allophone": LAST_ALLO}
    last = np.empty(n, dtype=object)
    for lang, pool in pools.items():
        m = language == lang
        last[m] = np.array(pool, dtype=object)[rng.integers(0, len(pool), int(m.sum()))]
    return first, last


def birth_dates(rng: np.random.Generator, cohort_year: np.ndarray) -> pd.DatetimeIndex:
    """Birth dates: a child enters grade 1 in the school year starting the September after
    turning 6 (cut-off 30 September), i.e. born 1 Oct (cohort-7) .. 30 Sep (cohort-6)."""
    start = pd.to_datetime(pd.Series(cohort_year - 7).astype(str) + "-10-01").to_numpy()
    offset = rng.integers(0, 365, len(cohort_year)).astype("timedelta64[D]")
    return pd.DatetimeIndex(start + offset)


def codes_permanents(rng: np.random.Generator, first: np.ndarray, last: np.ndarray,
                     sex: np.ndarray, birth: pd.DatetimeIndex) -> np.ndarray:
    """MEQ code permanent (4 letters + 8 digits), unique within the batch."""
    seq = rng.integers(0, 100, len(first))
    out = []
    seen: set[str] = set()
    for f, la, s, d, q in zip(first, last, sex, birth, seq, strict=True):
        stem = (_ascii_upper(la) + "XXX")[:3] + _ascii_upper(f)[:1]
        month = d.month + (50 if s == "F" else 0)
        code = f"{stem}{d.day:02d}{month:02d}{d.year % 100:02d}{q:02d}"
        while code in seen:  # the two last digits distinguish homonyms born the same day
            q = (q + 1) % 100
            code = f"{stem}{d.day:02d}{month:02d}{d.year % 100:02d}{q:02d}"
        seen.add(code)
        out.append(code)
    return np.array(out, dtype=object)


_LETTERS = np.array(list("ABCEGHJKLMNPRSTVWXYZ"))


def css_fsas(rng: np.random.Generator, region_letter: str, k: int) -> list[str]:
    """``k`` forward sortation areas (e.g. 'G1K') for a CSS in the region's postal letter."""
    fsas = {f"{region_letter}{rng.integers(0, 10)}{rng.choice(_LETTERS)}" for _ in range(4 * k)}
    return sorted(fsas)[:k]


def postal_codes(rng: np.random.Generator, fsa: np.ndarray) -> np.ndarray:
    """Full postal codes 'A1A 1A1' within the given FSAs."""
    n = len(fsa)
    d1 = rng.integers(0, 10, n)
    let = _LETTERS[rng.integers(0, len(_LETTERS), n)]
    d2 = rng.integers(0, 10, n)
    return np.array([f"{a} {b}{c}{e}" for a, b, c, e in zip(fsa, d1, let, d2, strict=True)],
                    dtype=object)
