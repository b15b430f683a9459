"""The data contract of a CSS extract: tables, columns, roles, keys.

Every column of every table has exactly one :class:`Role` (docs/architecture.md, "Column
roles"). Downstream modules read roles from here (``columns_with_role``), never from
hard-coded lists.

Tables (one Parquet file each in an extract folder):

========================  ============================================================
css                       one row per school service centre
schools                   one row per school (level, IMSE decile, size)
students                  one row per student: identifiers, audit attributes, family
enrolments                student x school year x school x grade (+ class group)
marks                     student x school year x term 1-3 x competency -> mark 0-100
absences                  one row per absence: date, hours, raw reason text (CSS-specific)
intervention_plans        one row per plan (EHDAA), with start/end school year
ministry_exams            grade-4 writing exam results (pass >= 60)
outcomes                  secondary exit: diploma / qualification / dropout (decrochage)
class_groups              workforce data: class group -> teacher
teachers                  workforce data: teacher experience, absences
========================  ============================================================

Validation (:func:`validate_extract`) checks types, nullability, ranges and allowed values
with pandera, then primary and foreign keys; errors name the table, the column and a
sample of offending rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

from cin_ml.errors import SchemaError

__all__ = [
    "COMPETENCIES",
    "DROPOUT_STATUS",
    "MINISTRY_EXAMS",
    "TABLES",
    "Column",
    "ForeignKey",
    "Role",
    "Table",
    "columns_with_role",
    "column_role",
    "direct_identifier_columns",
    "expected_columns",
    "require_columns",
    "validate_extract",
    "validate_table",
]


class Role(StrEnum):
    """Role of a column (docs/architecture.md, "Column roles")."""

    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SENSITIVE = "sensitive"
    FEATURE = "student_feature"
    WORKFORCE = "workforce"
    TARGET = "target"


COMPETENCIES = ("lecture", "ecriture", "resoudre", "raisonner")
"""The four core primary competencies reported on each report card."""

SEXES = ("F", "M")
LANGUAGE_GROUPS = ("francophone", "anglophone", "allophone")
IMMIGRATION = ("1re", "2e", "3e+")
EXIT_STATUSES = ("diplome", "qualification", "decrochage")
DROPOUT_STATUS = "decrochage"
"""Exit status of a student who left secondary without a diploma or qualification."""
MINISTRY_EXAMS = ("ecriture_4e",)
"""Ministry exam codes of the ``ministry_exams`` table."""
SCHOOL_LEVELS = ("primaire", "secondaire")


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``kind`` is one of ``str``, ``int``, ``float``, ``date``, ``bool``, ``category``.
    ``pseudonymize`` marks join keys that de-identification replaces by keyed pseudonyms
    (their role is still direct identifier: real values never leave the source side);
    ``free_text`` marks text typed by people, scrubbed of identifier-shaped tokens.
    """

    name: str
    kind: str
    role: Role
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None
    pseudonymize: bool = False
    description: str = ""
    free_text: bool = False
    """Typed by people (anything can end up in it): de-identification scrubs identifier-shaped
    tokens from it."""


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)
    description: str = ""
    dataset: str = "academic"
    """Data-use agreement the table falls under: academic, absences or workforce."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


R = Role
_C = Column

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "css",
            (
                _C("css_id", "str", R.QUASI_IDENTIFIER, description="CSS code"),
                _C("css_name", "str", R.QUASI_IDENTIFIER),
                _C("region", "str", R.QUASI_IDENTIFIER),
                _C("sector", "category", R.QUASI_IDENTIFIER, values=("francophone", "anglophone")),
            ),
            ("css_id",),
            description="School service centres / school boards.",
        ),
        Table(
            "schools",
            (
                _C("school_id", "str", R.QUASI_IDENTIFIER),
                _C("css_id", "str", R.QUASI_IDENTIFIER),
                _C("school_name", "str", R.QUASI_IDENTIFIER),
                _C("level", "category", R.QUASI_IDENTIFIER, values=SCHOOL_LEVELS),
                _C("imse_decile", "int", R.FEATURE, min=1, max=10,
                   description="Socio-economic index decile, 1 = most advantaged"),
                _C("n_students", "int", R.FEATURE, min=1),
            ),
            ("school_id",),
            (ForeignKey(("css_id",), "css", ("css_id",)),),
        ),
        Table(
            "students",
            (
                _C("student_id", "str", R.DIRECT_IDENTIFIER, pseudonymize=True),
                _C("css_id", "str", R.QUASI_IDENTIFIER),
                _C("code_permanent", "str", R.DIRECT_IDENTIFIER),
                _C("first_name", "str", R.DIRECT_IDENTIFIER),
                _C("last_name", "str", R.DIRECT_IDENTIFIER),
                _C("birth_date", "date", R.DIRECT_IDENTIFIER),
                _C("postal_code", "str", R.DIRECT_IDENTIFIER),
                _C("birth_year", "int", R.QUASI_IDENTIFIER, nullable=True,
                   description="Generalized from birth_date (null when suppressed)"),
                _C("fsa", "str", R.QUASI_IDENTIFIER, nullable=True,
                   description="Forward sortation area: first 3 characters of the postal code"),
                _C("sex", "category", R.SENSITIVE, values=SEXES),
                _C("language_group", "category", R.SENSITIVE, values=LANGUAGE_GROUPS),
                _C("immigration_generation", "category", R.SENSITIVE, values=IMMIGRATION),
                _C("mother_education", "int", R.FEATURE, nullable=True, min=0, max=3,
                   description="0 no diploma, 1 secondary, 2 college, 3 university"),
                _C("cohort_year", "int", R.QUASI_IDENTIFIER,
                   description="School year the student entered grade 1"),
            ),
            ("student_id",),
            (ForeignKey(("css_id",), "css", ("css_id",)),),
        ),
        Table(
            "enrolments",
            (
                _C("student_id", "str", R.DIRECT_IDENTIFIER, pseudonymize=True),
                _C("school_year", "int", R.FEATURE, description="Start year, 2020 = 2020-21"),
                _C("school_id", "str", R.QUASI_IDENTIFIER),
                _C("grade", "int", R.FEATURE, min=1, max=11,
                   description="1-6 primary, 7-11 secondary 1-5"),
                _C("class_group_id", "str", R.WORKFORCE),
            ),
            ("student_id", "school_year"),
            (
                ForeignKey(("student_id",), "students", ("student_id",)),
                ForeignKey(("school_id",), "schools", ("school_id",)),
                ForeignKey(("class_group_id",), "class_groups", ("class_group_id",)),
            ),
        ),
        Table(
            "marks",
            (
                _C("student_id", "str", R.DIRECT_IDENTIFIER, pseudonymize=True),
                _C("school_year", "int", R.FEATURE),
                _C("term", "int", R.FEATURE, min=1, max=3),
                _C("competency", "category", R.FEATURE, values=COMPETENCIES),
                _C("mark", "float", R.FEATURE, nullable=True, min=0, max=100),
            ),
            ("student_id", "school_year", "term", "competency"),
            (ForeignKey(("student_id", "school_year"), "enrolments",
                        ("student_id", "school_year")),),
        ),
        Table(
            "absences",
            (
                _C("absence_id", "int", R.FEATURE, min=0),
                _C("student_id", "str", R.DIRECT_IDENTIFIER, pseudonymize=True),
                _C("school_year", "int", R.FEATURE),
                _C("date", "date", R.FEATURE),
                _C("hours", "float", R.FEATURE, min=0.25, max=8),
                _C("reason_raw", "str", R.FEATURE, free_text=True,
               description="CSS-specific free text"),
            ),
            ("absence_id",),
            (ForeignKey(("student_id", "school_year"), "enrolments",
                        ("student_id", "school_year")),),
            dataset="absences",
        ),
        Table(
            "intervention_plans",
            (
                _C("student_id", "str", R.DIRECT_IDENTIFIER, pseudonymize=True),
                _C("start_year", "int", R.SENSITIVE),
                _C("end_year", "int", R.SENSITIVE, nullable=True),
                _C("plan_type", "category", R.SENSITIVE,
                   values=("difficulte_apprentissage", "trouble_comportement", "handicap")),
            ),
            ("student_id", "start_year"),
            (ForeignKey(("student_id",), "students", ("student_id",)),),
        ),
        Table(
            "ministry_exams",
            (
                _C("student_id", "str", R.DIRECT_IDENTIFIER, pseudonymize=True),
                _C("school_year", "int", R.TARGET),
                _C("exam", "category", R.TARGET, values=MINISTRY_EXAMS),
                _C("mark", "float", R.TARGET, min=0, max=100),
                _C("passed", "bool", R.TARGET),
            ),
            ("student_id", "exam"),
            (ForeignKey(("student_id", "school_year"), "enrolments",
                        ("student_id", "school_year")),),
        ),
        Table(
            "outcomes",
            (
                _C("student_id", "str", R.DIRECT_IDENTIFIER, pseudonymize=True),
                _C("exit_year", "int", R.TARGET),
                _C("status", "category", R.TARGET, values=EXIT_STATUSES),
            ),
            ("student_id",),
            (ForeignKey(("student_id",), "students", ("student_id",)),),
        ),
        Table(
            "class_groups",
            (
                _C("class_group_id", "str", R.WORKFORCE),
                _C("school_id", "str", R.QUASI_IDENTIFIER),
                _C("school_year", "int", R.WORKFORCE),
                _C("grade", "int", R.WORKFORCE, min=1, max=11),
                _C("teacher_id", "str", R.WORKFORCE, pseudonymize=True),
            ),
            ("class_group_id",),
            (
                ForeignKey(("school_id",), "schools", ("school_id",)),
                ForeignKey(("teacher_id",), "teachers", ("teacher_id",)),
            ),
            dataset="workforce",
        ),
        Table(
            "teachers",
            (
                _C("teacher_id", "str", R.WORKFORCE, pseudonymize=True),
                _C("css_id", "str", R.QUASI_IDENTIFIER),
                _C("teacher_name", "str", R.DIRECT_IDENTIFIER),
                _C("years_experience", "int", R.WORKFORCE, min=0, max=45),
                _C("absence_days", "float", R.WORKFORCE, min=0),
            ),
            ("teacher_id",),
            (ForeignKey(("css_id",), "css", ("css_id",)),),
            dataset="workforce",
        ),
    )
}


def column_role(table: str, column: str) -> Role:
    """Role of ``table.column``; raises SchemaError for an unknown table or column."""
    if table not in TABLES:
        raise SchemaError(f"unknown table '{table}'")
    try:
        return TABLES[table].column(column).role
    except KeyError:
        raise SchemaError(f"table '{table}' has no column '{column}'") from None


def columns_with_role(role: Role, tables: Iterable[str] | None = None) -> dict[str, list[str]]:
    """``{table: [columns]}`` of every column with ``role`` (all tables by default)."""
    names = list(tables) if tables is not None else list(TABLES)
    out = {t: [c.name for c in TABLES[t].columns if c.role == role] for t in names}
    return {t: cols for t, cols in out.items() if cols}


def direct_identifier_columns() -> dict[str, list[str]]:
    """Columns that never leave the source side (removed or pseudonymized)."""
    return columns_with_role(Role.DIRECT_IDENTIFIER)


# --------------------------------------------------------------------------- validation

def _sample(df: pd.DataFrame, mask, cols: list[str], n: int = 3) -> str:
    rows = df.loc[mask, cols].head(n)
    return rows.to_dict("records").__repr__()


def _pandera_schema(table: Table):
    import pandera.pandas as pa

    kind_dtype = {"str": None, "int": "int64", "float": "float64", "date": "datetime64[ns]",
                  "bool": "bool", "category": None}
    cols = {}
    for c in table.columns:
        checks = []
        if c.min is not None:
            checks.append(pa.Check.ge(c.min))
        if c.max is not None:
            checks.append(pa.Check.le(c.max))
        if c.values is not None:
            checks.append(pa.Check.isin(list(c.values)))
        dtype = kind_dtype[c.kind]
        if c.kind == "int" and c.nullable:  # int64 cannot hold nulls: accept Int64 / float
            dtype = None
            checks.append(pa.Check(lambda s: s.dropna().mod(1).eq(0), name="whole_number"))
        cols[c.name] = pa.Column(dtype, checks=checks, nullable=c.nullable, coerce=dtype
                                 in ("int64", "float64"), required=True)
    return pa.DataFrameSchema(cols, strict=False)


def expected_columns(name: str, form: str = "source") -> tuple[Column, ...]:
    """Columns table ``name`` carries in ``form``.

    ``source``: every contract column. ``deidentified`` (and virtual CSS): direct identifiers
    are gone, except pseudonymized join keys, which hold pseudonyms.
    """
    if form not in ("source", "deidentified"):
        raise SchemaError(f"unknown extract form '{form}' (source or deidentified)")
    cols = TABLES[name].columns
    if form == "deidentified":
        cols = tuple(c for c in cols if c.role != Role.DIRECT_IDENTIFIER or c.pseudonymize)
    return cols


def require_columns(tables: Mapping[str, pd.DataFrame], name: str,
                    columns: Iterable[str]) -> pd.DataFrame:
    """Table ``name`` of ``tables``; SchemaError naming the table, or the columns it lacks."""
    if name not in tables:
        raise SchemaError(f"extract is missing table '{name}'")
    df = tables[name]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(f"table '{name}': missing column(s) {', '.join(missing)}")
    return df


def validate_table(name: str, df: pd.DataFrame, form: str = "source") -> pd.DataFrame:
    """Check one table against the contract (columns, types, ranges, values, primary key).

    Returns the frame with numeric columns coerced to the contract dtypes. Raises
    :class:`SchemaError` naming the table, the column and a sample of offending rows. In
    ``deidentified`` form a non-pseudonymized direct identifier column is an error.
    """
    import pandera.errors as pe

    if name not in TABLES:
        raise SchemaError(f"unknown table '{name}'")
    table = Table(name, expected_columns(name, form), TABLES[name].primary_key)
    if form == "deidentified":
        leaked = [c.name for c in TABLES[name].columns
                  if c.role == Role.DIRECT_IDENTIFIER and not c.pseudonymize and c.name in df]
        if leaked:
            raise SchemaError(f"table '{name}': direct identifier column(s) "
                              f"{', '.join(leaked)} present in a de-identified extract")
    missing = [c for c in table.column_names if c not in df.columns]
    if missing:
        raise SchemaError(f"table '{name}': missing column(s) {', '.join(missing)}")
    for c in table.columns:
        if c.kind == "date" and not pd.api.types.is_datetime64_any_dtype(df[c.name]):
            raise SchemaError(f"table '{name}', column '{c.name}': expected dates, got "
                              f"{df[c.name].dtype}")
    try:
        df = _pandera_schema(table).validate(df, lazy=True)
    except pe.SchemaErrors as exc:
        fc = exc.failure_cases
        col = fc.iloc[0]["column"]
        mine = fc.loc[fc["column"].astype(str) == str(col)]
        by_check = mine.groupby("check", sort=False).size()
        checks = ", ".join(f"{c} for {int(n)}" for c, n in by_check.items())
        cases = mine["failure_case"].head(3).tolist()
        raise SchemaError(
            f"table '{name}', column '{col}': {len(mine)} row(s) break the contract "
            f"({checks}), e.g. {cases}"
        ) from None
    except pe.SchemaError as exc:  # pragma: no cover - lazy=True collects instead
        raise SchemaError(f"table '{name}': {exc}") from None
    pk = list(table.primary_key)
    dup = df.duplicated(pk, keep=False)
    if dup.any():
        raise SchemaError(
            f"table '{name}': primary key ({', '.join(pk)}) is not unique for "
            f"{int(dup.sum())} row(s), e.g. {_sample(df, dup, pk)}"
        )
    return df


def validate_extract(tables: Mapping[str, pd.DataFrame],
                     required: Iterable[str] | None = None,
                     form: str = "source") -> dict[str, pd.DataFrame]:
    """Validate a whole extract: each table, then every foreign key between present tables.

    ``required`` lists tables that must be present (all contract tables by default);
    ``form`` is ``source`` or ``deidentified`` (see :func:`expected_columns`).
    """
    need = list(required) if required is not None else list(TABLES)
    absent = [t for t in need if t not in tables]
    if absent:
        raise SchemaError(f"extract is missing table(s): {', '.join(absent)}")
    out = {name: validate_table(name, df, form) for name, df in tables.items() if name in TABLES}
    for name, df in out.items():
        for fk in TABLES[name].foreign_keys:
            if fk.table not in out:
                continue
            ref = out[fk.table]
            cols, refcols = list(fk.columns), list(fk.ref_columns)
            if len(cols) == 1:
                ok = df[cols[0]].isin(ref[refcols[0]])
            else:
                keys = pd.MultiIndex.from_frame(ref[refcols])
                ok = pd.MultiIndex.from_frame(df[cols]).isin(keys)
            if not ok.all():
                bad = ~ok
                raise SchemaError(
                    f"table '{name}': foreign key ({', '.join(cols)}) -> {fk.table} broken for "
                    f"{int(bad.sum())} row(s), e.g. {_sample(df, bad, cols)}"
                )
    return out
