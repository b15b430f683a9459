"""De-identification: pseudonyms, dropped identifiers, k-anonymity, byte-level leak scans."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cin_ml.config import packaged_config_dir
from cin_ml.errors import ConfigError, PolicyError, SchemaError
from cin_ml.extract import write_extract
from cin_ml.schema import TABLES, Role, validate_extract
from cin_ml.virtual_css import (
    DEMO_KEY,
    KEY_ENV_VAR,
    DeidentifyConfig,
    deidentify,
    measure_k_anonymity,
    pseudonymize_values,
    resolve_pseudonym_key,
)

sys.path.insert(0, str(Path(__file__).parent))
from _source_factory import make_source  # noqa: E402

SECRET = "unit-test-secret-0123456789abcdef"
KEY = resolve_pseudonym_key(environ={KEY_ENV_VAR: SECRET})


def _cfg(**kw) -> DeidentifyConfig:
    base = DeidentifyConfig.load(packaged_config_dir() / "virtual_css.toml")
    return base.model_copy(update=kw)


def direct_identifier_values(tables: dict[str, pd.DataFrame]) -> set[str]:
    """Every source value of every direct-identifier column, as text (dates in ISO form)."""
    out: set[str] = set()
    for name, cols in {t: [c.name for c in TABLES[t].columns
                           if c.role == Role.DIRECT_IDENTIFIER or c.pseudonymize]
                       for t in tables}.items():
        for c in cols:
            s = tables[name][c]
            if pd.api.types.is_datetime64_any_dtype(s):
                out |= set(s.dt.strftime("%Y-%m-%d"))
            else:
                out |= {str(v) for v in s.dropna().unique()}
    # a value equal to, or inside, a value of a published non-identifying column (a birth date
    # that is also an absence date, a last name inside a school name) is not a leak
    published: set[str] = set()
    for name, df in tables.items():
        for c in TABLES[name].columns:
            if c.role == Role.DIRECT_IDENTIFIER or c.pseudonymize or c.name not in df:
                continue
            s = df[c.name]
            if pd.api.types.is_datetime64_any_dtype(s) and s.notna().any():
                # a virtual CSS draws absence dates on any weekday of the span: a birth date
                # equal to one is a coincidence; weekend birth dates stay checked
                span = pd.bdate_range(s.min(), s.max())
                published |= set(span.strftime("%Y-%m-%d")) | set(s.dt.strftime("%Y-%m-%d"))
            elif s.dtype == object:
                published |= {str(v) for v in s.dropna().unique()}
    text = "\n".join(v for v in published if not v[:4].isdigit())  # names of schools, ...
    return {v for v in out if len(v) >= 4 and v not in published and v not in text}


def leaked(blob: bytes, value: str) -> bool:
    """``value`` appears in ``blob`` as a whole token (not inside a longer word such as
    'Tran' in 'Transformer' in a pickled synthesizer)."""
    v = re.escape(value.encode())
    return re.search(rb"(?<![A-Za-z0-9\x80-\xff])" + v + rb"(?![A-Za-z0-9\x80-\xff])",
                     blob) is not None


def scan(blob: bytes, values: set[str]) -> list[str]:
    """The ``values`` that :func:`leaked` into ``blob`` (token-set prefilter: fast)."""
    tokens = set(re.findall(rb"[A-Za-z0-9\x80-\xff]+", blob))
    out = []
    for v in values:
        first = re.findall(rb"[A-Za-z0-9\x80-\xff]+", v.encode())
        if first and first[0] in tokens and leaked(blob, v):
            out.append(v)
    return out


def output_text(folder: Path) -> list[tuple[str, bytes]]:
    """Raw bytes of each file, plus every Parquet file decoded to CSV + its metadata (the raw
    bytes are zstd-compressed, so a byte scan alone could miss a compressed leak)."""
    found = []
    for f in sorted(folder.rglob("*")):
        if not f.is_file():
            continue
        found.append((f.name, f.read_bytes()))
        if f.suffix == ".parquet":
            tbl = pq.read_table(f)
            buf = io.StringIO()
            tbl.to_pandas().to_csv(buf, index=False, date_format="%Y-%m-%d")
            found.append((f"{f.name} (decoded)", buf.getvalue().encode()))
            found.append((f"{f.name} (metadata)", str(tbl.schema.metadata).encode()))
    return found


def test_demo_key_only_when_asked_and_short_keys_refused(tmp_path):
    with pytest.raises(PolicyError, match=KEY_ENV_VAR):
        resolve_pseudonym_key(environ={})
    demo = resolve_pseudonym_key(environ={}, demo=True)
    assert demo.demo and demo.secret == DEMO_KEY.encode()
    with pytest.raises(PolicyError, match="at least 16"):
        resolve_pseudonym_key(environ={KEY_ENV_VAR: "short"})
    kf = tmp_path / "key.txt"
    kf.write_text(SECRET + "\n")
    from_file = resolve_pseudonym_key(kf, environ={KEY_ENV_VAR: "x" * 40})
    assert from_file.key_id == KEY.key_id and from_file.source.startswith("file:")
    assert SECRET not in repr(from_file)
    with pytest.raises(ConfigError, match="not found"):
        resolve_pseudonym_key(tmp_path / "nope.txt")


def test_pseudonyms_are_keyed_consistent_and_namespaced():
    ids = pd.Series(["E1", "E2", "E1", None])
    a = pseudonymize_values(ids, KEY, "student_id")
    assert a[0] == a[2] and a[0] != a[1] and a.isna()[3]
    other = resolve_pseudonym_key(environ={KEY_ENV_VAR: SECRET[::-1]})
    assert pseudonymize_values(ids, other, "student_id")[0] != a[0]
    assert pseudonymize_values(ids, KEY, "teacher_id")[0] != a[0]


def test_output_validates_and_identifiers_gone():
    src = make_source(400, seed=3, n_fsa=8)
    d = deidentify(src, KEY, _cfg())
    validate_extract(d.tables, required=list(src), form="deidentified")
    st_ = d.tables["students"]
    for c in ("code_permanent", "first_name", "last_name", "birth_date", "postal_code"):
        assert c not in st_.columns
    assert "teacher_name" not in d.tables["teachers"].columns
    assert not set(st_["student_id"]) & set(src["students"]["student_id"])
    # same pseudonyms in every table: joins still work and the marks per student are intact
    per_student_src = src["marks"].groupby("student_id")["mark"].sum().sort_values().to_numpy()
    per_student_out = d.tables["marks"].groupby("student_id")["mark"].sum().sort_values()
    assert per_student_out.to_numpy() == pytest.approx(per_student_src)
    assert set(d.tables["marks"]["student_id"]) <= set(st_["student_id"])
    assert set(d.tables["enrolments"]["class_group_id"]) <= set(
        d.tables["class_groups"]["class_group_id"])
    # source surrogate keys do not survive
    assert not set(d.tables["class_groups"]["class_group_id"]) & set(
        src["class_groups"]["class_group_id"])


def test_k_anonymity_is_enforced_and_reported():
    src = make_source(300, seed=5, n_fsa=60)  # many FSAs: small classes before
    d = deidentify(src, KEY, _cfg(k=5))
    r = d.report
    assert r.k_before < 5 <= r.k_after
    ka = measure_k_anonymity(d.tables["students"], r.quasi_identifiers, 5)
    assert ka.k >= 5 and ka.n_below[5] == 0
    assert r.generalization["fsa"] != "3 characters"
    assert r.n_students_out == r.n_students_in - r.n_records_suppressed


def test_too_much_suppression_is_refused():
    src = make_source(60, seed=1, n_fsa=3)
    with pytest.raises(PolicyError, match="max_record_suppression_rate"):
        deidentify(src, KEY, _cfg(k=50, max_record_suppression_rate=0.1))


def test_bad_inputs_name_the_fault():
    src = make_source(50, seed=2)
    del src["marks"]
    with pytest.raises(SchemaError, match="marks"):
        deidentify(src, KEY, _cfg())
    src = make_source(50, seed=2)
    src["students"] = src["students"].drop(columns=["postal_code"])
    with pytest.raises(SchemaError, match="postal_code"):
        deidentify(src, KEY, _cfg())
    with pytest.raises(ConfigError, match="unknown column 'shoe_size'"):
        deidentify(make_source(50, seed=2), KEY, _cfg(quasi_identifiers=("shoe_size",)))
    with pytest.raises(ConfigError, match="direct identifier"):
        deidentify(make_source(50, seed=2), KEY, _cfg(quasi_identifiers=("postal_code",)))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(n=st.integers(20, 250), n_fsa=st.integers(1, 60), k=st.integers(2, 12),
       seed=st.integers(0, 10_000), qis=st.sampled_from([
           ("css_id", "cohort_year", "birth_year", "fsa", "sex"),
           ("fsa",), ("birth_year", "sex", "language_group"),
           ("cohort_year", "fsa", "school_id")]))
def test_properties_k_anonymous_no_leak_foreign_keys(tmp_path_factory, n, n_fsa, k, seed, qis):
    src = make_source(n, seed=seed, n_fsa=n_fsa)
    d = deidentify(src, KEY, _cfg(k=k, quasi_identifiers=qis,
                                  max_record_suppression_rate=1.0))
    out = validate_extract(d.tables, required=list(src), form="deidentified")  # FKs intact
    students = out["students"]
    if len(students):
        frame = students.set_index("student_id")
        if "school_id" in qis:
            first = (out["enrolments"].sort_values("school_year")
                     .groupby("student_id")["school_id"].first())
            frame = frame.assign(school_id=first)
        assert measure_k_anonymity(frame, qis, k).k >= k
    assert len(students) + d.report.n_records_suppressed == n
    folder = tmp_path_factory.mktemp("deid")
    write_extract(d.tables, folder / "out", extra_files={"report.json": d.report.to_dict()})
    secrets = direct_identifier_values(src) | {SECRET}
    for fname, blob in output_text(folder / "out"):
        assert not scan(blob, secrets), f"{scan(blob, secrets)} leaked into {fname}"


def test_the_leak_scan_finds_a_planted_identifier(tmp_path):
    """Control: the scan sees a value hidden in a zstd-compressed Parquet file."""
    src = make_source(40, seed=9)
    d = deidentify(src, KEY, _cfg(max_record_suppression_rate=1.0))
    planted = dict(d.tables)
    code = src["students"]["code_permanent"].iloc[0]
    planted["css"] = planted["css"].assign(css_name=f"x {code} y")
    write_extract(planted, tmp_path / "out")
    hits = [f for f, blob in output_text(tmp_path / "out") if scan(blob, {code, "zzzz"})]
    assert "css.parquet (decoded)" in hits
    assert not leaked(b"Transformer", "Tran") and leaked(b"'Tran'", "Tran")


def test_identifiers_typed_into_free_text_do_not_survive(tmp_path):
    """Issue 15: a code permanent, a name and a birth date typed into an absence reason are
    scrubbed by `deidentify` (the byte-level scan of the written output finds none of them),
    while the reasons' words stay for harmonization."""
    from cin_ml.schema import TABLES

    assert TABLES["absences"].column("reason_raw").free_text
    src = make_source(120, seed=4)
    st_ = src["students"]
    i = st_.index[~st_["last_name"].str.contains("'")][0]  # a code permanent of 4 letters
    code, first, last = st_.loc[i, ["code_permanent", "first_name", "last_name"]]
    born = st_.loc[i, "birth_date"]
    spaced = f"{code[:4].lower()} {code[4:8]} {code[8:]}"
    ab = src["absences"].copy()
    typed = [f"malade (voir {code})", f"rdv dentiste {first} {last.upper()}",
             f"née le {born:%Y-%m-%d}, {born:%d/%m/%Y}", f"fievre {spaced}"]
    ab.loc[ab.index[: len(typed)], "reason_raw"] = typed
    src["absences"] = ab
    d = deidentify(src, KEY, _cfg(max_record_suppression_rate=1.0))
    reasons = set(d.tables["absences"]["reason_raw"])
    assert {"malade (voir ***)", "née le ***, ***", "fievre ***"} <= reasons, reasons
    rdv = [r for r in reasons if r.startswith("rdv dentiste ***")]
    assert rdv and first not in rdv[0] and last.upper() not in rdv[0], reasons
    assert d.report.to_dict()["free_text_scrubbed"] == {"absences.reason_raw": len(typed)}
    write_extract(d.tables, tmp_path / "out", extra_files={"report.json": d.report.to_dict()})
    secrets = {code, spaced, f"{born:%Y-%m-%d}", f"{born:%d/%m/%Y}", last, last.upper(),
               first}
    for fname, blob in output_text(tmp_path / "out"):
        assert not scan(blob, secrets), f"{scan(blob, secrets)} leaked into {fname}"
        assert not re.search(rb"[A-Za-z]{4}\d{8}", blob), fname


def test_the_leak_scan_finds_a_code_permanent_planted_in_free_text(tmp_path):
    """Control: the same scan sees a code permanent written into a reason of the output."""
    src = make_source(40, seed=9)
    d = deidentify(src, KEY, _cfg(max_record_suppression_rate=1.0))
    code = src["students"]["code_permanent"].iloc[0]
    planted = dict(d.tables)
    ab = planted["absences"].copy()
    ab.loc[ab.index[0], "reason_raw"] = f"malade {code}"
    planted["absences"] = ab
    write_extract(planted, tmp_path / "out")
    hits = [f for f, blob in output_text(tmp_path / "out") if scan(blob, {code})]
    assert "absences.parquet (decoded)" in hits
