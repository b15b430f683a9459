"""Absence reasons as CSS staff type them, and the network nomenclature they mean.

Each CSS uses its own free-text vocabulary: synonyms, abbreviations, typos and mixed case.
The simulator draws a CSS-specific subset of these raw strings per category; the true
category of every raw string is exported with the ground truth so that harmonization can be
scored.
"""

from __future__ import annotations

CATEGORIES = ("maladie", "rendez_vous_medical", "raison_familiale", "suspension",
              "non_motivee", "autre")

CATEGORY_SHARES = {  # share of absence records by true category (before individual effects)
    "maladie": 0.44, "rendez_vous_medical": 0.14, "raison_familiale": 0.14,
    "suspension": 0.03, "non_motivee": 0.18, "autre": 0.07,
}

RAW_REASONS: dict[str, tuple[str, ...]] = {
    "maladie": ("malade", "maladie", "Maladie", "MALADIE", "mal de ventre", "fièvre", "fievre",
                "grippe", "gastro", "malade (parent a appelé)", "maladi", "Malade - tousse",
                "covid", "symptômes covid", "otite"),
    "rendez_vous_medical": ("rdv médical", "rdv medical", "rendez-vous médical", "RV médecin",
                            "dentiste", "chiro", "orthodontiste", "rendez vous medecin",
                            "clinique", "hopital", "rdv dentiste", "optométriste"),
    "raison_familiale": ("raison familiale", "raisons familiales", "voyage familial",
                         "funérailles", "funerailles grand-mère", "décès dans la famille",
                         "famille", "Absent pour raison familiale", "vacances famille"),
    "suspension": ("suspension", "suspendu", "suspension interne", "susp. 2 jours",
                   "suspension externe", "expulsion temporaire"),
    "non_motivee": ("non motivé", "non motivee", "absence non motivée", "NM", "n.m.",
                    "sans motif", "inconnu", "pas de raison", "école buissonnière",
                    "non-motivée"),
    "autre": ("absent pour personnel", "autre", "activité sportive", "compétition",
              "tempête", "transport scolaire", "Autre raison", "pers."),
}
