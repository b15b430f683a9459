"""Data files are read as the spec says, and malformed files fail with one line naming the
file (and the line, column or spec key at fault)."""

from __future__ import annotations

import codecs
import hashlib

import pytest

from cin_ml.errors import DataError, PolicyError
from cin_ml.external import build_dataset, load_dataset, load_spec, read_table

from .conftest import MINI_DATA, MINI_SPEC


def read(write_spec, data, spec=MINI_SPEC):
    return read_table(load_spec(write_spec(spec, data)))


def test_reads_mini(write_spec):
    df = read(write_spec, MINI_DATA)
    assert list(df.columns) == ["sex", "age", "G1", "G3"]
    assert df["G3"].tolist() == [13, 7, 11, 15]


def test_bom_auto_is_stripped_and_forbid_or_require_enforced(write_spec):
    with_bom = codecs.BOM_UTF8 + MINI_DATA.encode()
    assert list(read(write_spec, with_bom).columns)[0] == "sex"
    forbid = MINI_SPEC.replace('separator = ";"', 'separator = ";"\nbom = "forbid"')
    with pytest.raises(DataError, match=r"data.csv: starts with a byte-order mark"):
        read(write_spec, with_bom, forbid)
    require = MINI_SPEC.replace('separator = ";"', 'separator = ";"\nbom = "require"')
    with pytest.raises(DataError, match=r"no byte-order mark"):
        read(write_spec, MINI_DATA, require)
    assert list(read(write_spec, with_bom, require).columns)[0] == "sex"


def test_encoding(write_spec):
    latin = "sex;ville;G3\nF;Montréal;12\nM;Québec;8\n".encode("latin-1")
    with pytest.raises(DataError, match=r"data.csv: not valid utf-8 at byte \d+ \(line 2\)"):
        read(write_spec, latin)
    spec = MINI_SPEC.replace('separator = ";"', 'separator = ";"\nencoding = "latin-1"')
    assert read(write_spec, latin, spec)["ville"].tolist() == ["Montréal", "Québec"]
    with pytest.raises(DataError, match="UTF-8 byte-order mark but"):
        read(write_spec, codecs.BOM_UTF8 + latin, spec)


@pytest.mark.parametrize(("data", "message"), [
    ("", r"data.csv: the file is empty"),
    ("sex;age;G1;G3\n", r"a header but no data rows"),
    ("sex;age;G1;G3\nF;15;12;13\nM;16;8\n", r"line 3 has 3 fields, the header 4"),
    ("sex;age;G1;G3\nF;15;12;13;9\n", r"line 2 has 5 fields, the header 4"),
    ("sex,age,G1,G3\nF,15,12,13\n", r"one column only: the header has no ';'"),
    ("sex;age;G3;G3\nF;15;12;13\n", r"duplicate column name\(s\) \['G3'\]"),
    ("sex;;G1;G3\nF;15;12;13\n", r"empty column name"),
    ("sex;age;G1\nF;15;12\n", r"column\(s\) \['G3'\] named in .*\[target\] event are not in"),
    ("sex;age;G1;G3;first_name\nF;15;12;13;Ann\n", None),
])
def test_malformed_files(write_spec, data, message):
    if message is None:
        with pytest.raises(PolicyError, match=r"direct identifier column\(s\) \['first_name'\]"):
            read(write_spec, data)
        return
    with pytest.raises(DataError, match=message) as exc:
        read(write_spec, data)
    assert "\n" not in str(exc.value)


def test_missing_file_and_altered_file(write_spec):
    with pytest.raises(DataError, match=r"data file not found \(\[dataset\] file in"):
        read_table(load_spec(write_spec(MINI_SPEC)))
    good = hashlib.sha256(MINI_DATA.encode()).hexdigest()
    spec = MINI_SPEC.replace('file = "data.csv"', f'file = "data.csv"\nsha256 = "{good}"')
    assert len(read(write_spec, MINI_DATA, spec)) == 4
    with pytest.raises(DataError, match=r"SHA-256 .* differs from \[dataset\] sha256"):
        read(write_spec, MINI_DATA.replace("13", "14"), spec)


def test_id_columns_must_be_unique(write_spec):
    spec = MINI_SPEC.replace("[sensitive]", '[columns]\nid = ["age"]\n[sensitive]')
    with pytest.raises(DataError,
                       match=r"id column 'age': line 5 repeats the value \('15',\) of line 2"):
        read(write_spec, MINI_DATA, spec)


def test_composite_id_is_checked_as_a_whole(write_spec):
    # sex and age each repeat; the pair (sex, age) names every row once
    spec = MINI_SPEC.replace("[sensitive]", '[columns]\nid = ["G1", "age"]\n[sensitive]')
    data = "sex;age;G1;x;G3\nF;15;12;1;13\nM;16;12;2;7\nF;15;9;3;11\nM;16;9;4;15\n"
    ds = load_dataset(load_spec(write_spec(spec, data)))
    assert list(ds.ids) == ["12|15", "12|16", "9|15", "9|16"]
    assert ds.features == ("x",)
    with pytest.raises(DataError, match=r"id columns \['G1', 'age'\] together: line 6 "
                                        r"repeats the value \('12', '15'\) of line 2"):
        read(write_spec, data + "M;15;12;5;9\n", spec)
    with pytest.raises(DataError, match=r"together: missing value on line 3"):
        read(write_spec, data.replace("M;16;12;2;7", "M;;12;2;7"), spec)


def test_dataset_roles_and_unknown_labels(write_spec):
    data = MINI_DATA + "F;18;10;\n"
    ds = load_dataset(load_spec(write_spec(MINI_SPEC, data)))
    assert ds.n_rows_file == 5 and ds.n_unlabelled == 1
    assert ds.y.tolist() == [0, 1, 0, 0]
    assert list(ds.ids) == ["row-00002", "row-00003", "row-00004", "row-00005"]
    assert ds.features == ("age", "G1")          # G3 is the target, sex is sensitive
    roles = {d["feature"]: (d["role"], d["included"]) for d in ds.policy["decisions"]}
    assert roles == {"sex": ("sensitive", False), "age": ("student_feature", True),
                     "G1": ("student_feature", True), "G3": ("target", False)}
    assert ds.groups["sex"].tolist() == ["F", "M", "F", "M"]


def test_justified_sensitive_feature_and_single_class(write_spec):
    spec = MINI_SPEC.replace('columns = ["sex"]',
                             'columns = ["sex"]\nfeatures = { sex = "needed because …" }')
    ds = load_dataset(load_spec(write_spec(spec, MINI_DATA)))
    assert "sex" in ds.features and ds.policy["justifications"] == {"sex": "needed because …"}
    s = load_spec(write_spec(MINI_SPEC.replace("G3 < 10", "G3 < 0"), MINI_DATA))
    with pytest.raises(DataError, match=r"gives a single class \(no event\) on 4"):
        build_dataset(s, read_table(s))
    bad_ref = MINI_SPEC.replace('columns = ["sex"]',
                                'columns = ["sex"]\nreference_groups = { sex = "X" }')
    with pytest.raises(DataError, match=r"reference group sex = 'X'"):
        load_dataset(load_spec(write_spec(bad_ref, MINI_DATA)))


@pytest.mark.parametrize(("header", "section", "match"), [
    ("sex;age;G1;score;G3", '["score"]', r"sensitive column 'score' .* evaluation rows use"),
    ("sex;age;G1;a × b;G3", '["a × b"]', r"sensitive column 'a × b' .* contains '×'"),
    ("sex;age;G1;raw_score;G3", '["sex"]', r"feature column\(s\) \['raw_score'\] have a name"),
])
def test_the_few_names_cin_ml_uses_itself_are_refused_in_one_line(write_spec, header, section,
                                                                    match):
    data = header + "\nF;15;12;1;13\nM;16;8;2;7\nF;17;9;3;11\nM;15;14;4;15\n"
    spec = MINI_SPEC.replace('columns = ["sex"]', f"columns = {section}")
    with pytest.raises(DataError, match=match):
        load_dataset(load_spec(write_spec(spec, data)))
