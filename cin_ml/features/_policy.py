"""Feature policy: which candidate features may enter a model, read from the schema roles.

Every candidate feature declares the contract columns its *values* come from. Its role is
the most restrictive role among them:

- direct identifier, teacher/workforce or target → never a feature (:class:`PolicyError`);
- sensitive or quasi-identifier → excluded unless ``[policy.justifications]`` gives a
  written justification (catalogued aggregates of quasi-identifiers, such as the number of
  school changes, are allowed as designed and recorded);
- student feature → allowed (unless excluded by choice).
"""

from __future__ import annotations

from dataclasses import dataclass

from cin_ml.errors import PolicyError
from cin_ml.features._names import (
    IMSE_DECILE,
    INTERVENTION_PLAN,
    MOTHER_EDUCATION,
    N_RETENTIONS,
    N_SCHOOL_CHANGES,
    feature_family,
)
from cin_ml.features._settings import PolicySettings
from cin_ml.schema import COMPETENCIES, Role, column_role

_SEVERITY = {Role.FEATURE: 0, Role.QUASI_IDENTIFIER: 1, Role.SENSITIVE: 2,
             Role.TARGET: 3, Role.WORKFORCE: 4, Role.DIRECT_IDENTIFIER: 5}
_NEVER = (Role.DIRECT_IDENTIFIER, Role.WORKFORCE, Role.TARGET)

_SOURCES = {
    INTERVENTION_PLAN: (("intervention_plans", "start_year"), ("intervention_plans", "end_year")),
    N_RETENTIONS: (("enrolments", "grade"), ("enrolments", "school_year")),
    N_SCHOOL_CHANGES: (("enrolments", "school_id"),),
    IMSE_DECILE: (("schools", "imse_decile"),),
    MOTHER_EDUCATION: (("students", "mother_education"),),
}

# catalogued aggregates of quasi-identifiers: allowed by design, recorded in the policy
_DESIGNED_QI = {N_SCHOOL_CHANGES: "count of school changes: reveals no school, "
                                  "only mobility (catalogued aggregate)"}


def feature_sources(name: str) -> tuple[tuple[str, str], ...]:
    """Contract columns ``(table, column)`` the values of feature ``name`` derive from."""
    family = feature_family(name)
    if family in COMPETENCIES:
        return (("marks", "mark"), ("marks", "term"), ("enrolments", "grade"))
    if family == "absences":
        return (("absences", "hours"), ("absences", "reason_raw"))
    if name in _SOURCES:
        return _SOURCES[name]
    raise PolicyError(f"feature '{name}' has no declared source columns")


@dataclass(frozen=True)
class PolicyDecision:
    """Outcome of the feature policy for one candidate feature."""

    feature: str
    role: str
    sources: tuple[str, ...]
    included: bool
    reason: str
    justification: str | None = None
    justification_fr: str | None = None
    """French text of the justification, when the config gives it in both languages."""

    def to_dict(self) -> dict:
        out = {"feature": self.feature, "role": self.role, "sources": list(self.sources),
               "included": self.included, "reason": self.reason,
               "justification": self.justification}
        if self.justification_fr:
            out["justification_fr"] = self.justification_fr
        return out


@dataclass(frozen=True)
class FeaturePolicy:
    """Features used and excluded, with the justifications recorded for the card."""

    decisions: tuple[PolicyDecision, ...]

    @property
    def used(self) -> tuple[str, ...]:
        return tuple(d.feature for d in self.decisions if d.included)

    @property
    def excluded(self) -> tuple[str, ...]:
        return tuple(d.feature for d in self.decisions if not d.included)

    @property
    def justifications(self) -> dict[str, str]:
        return {d.feature: d.justification for d in self.decisions
                if d.included and d.justification}

    def to_dict(self) -> dict:
        return {"features_used": list(self.used), "features_excluded": list(self.excluded),
                "justifications": dict(sorted(self.justifications.items())),
                "decisions": [d.to_dict() for d in self.decisions]}


def _role(sources: tuple[tuple[str, str], ...], feature: str) -> Role:
    roles = []
    for table, col in sources:
        try:
            roles.append(column_role(table, col))
        except Exception as exc:
            raise PolicyError(f"feature '{feature}': unknown source column "
                              f"{table}.{col} ({exc})") from None
    return max(roles, key=_SEVERITY.__getitem__)


def decide_policy(candidates: dict[str, tuple[tuple[str, str], ...]],
                  settings: PolicySettings) -> FeaturePolicy:
    """Apply the feature policy to candidate features.

    Parameters
    ----------
    candidates
        Feature name -> the contract columns ``(table, column)`` its values derive from
        (:func:`feature_sources` for catalogued features).
    settings
        The ``[policy]`` section of ``configs/features.toml``.

    Raises
    ------
    PolicyError
        If a candidate derives from a direct identifier, a teacher/workforce column or a
        target, or if a justification or exclusion names no candidate feature.
    """
    unknown = sorted((set(settings.justifications) | set(settings.exclude)) - set(candidates))
    if unknown:
        raise PolicyError(f"[policy] names feature(s) that are not candidates: "
                          f"{', '.join(unknown)}")
    decisions = []
    for name, sources in candidates.items():
        role = _role(sources, name)
        src = tuple(f"{t}.{c}" for t, c in sources)
        if role in _NEVER:
            raise PolicyError(f"feature '{name}' derives from {role.value} column(s) "
                              f"{', '.join(src)}: never allowed as a model feature")
        given = settings.justifications.get(name)
        just_fr = given.fr.strip() if given is not None and not isinstance(given, str) else None
        just = ((given if isinstance(given, str) else given.en if given is not None else "")
                .strip() or None)
        if name in settings.exclude:
            d = PolicyDecision(name, role.value, src, False, "excluded by [policy] exclude")
        elif role == Role.FEATURE:
            d = PolicyDecision(name, role.value, src, True, "student feature")
        elif just:
            d = PolicyDecision(name, role.value, src, True,
                               f"{role.value}: allowed with a written justification", just,
                               just_fr)
        elif name in _DESIGNED_QI and role == Role.QUASI_IDENTIFIER:
            d = PolicyDecision(name, role.value, src, True, _DESIGNED_QI[name])
        else:
            d = PolicyDecision(name, role.value, src, False,
                               f"{role.value}: excluded (no justification in [policy])")
        decisions.append(d)
    return FeaturePolicy(tuple(decisions))
