"""Dataset specs: the shipped examples load; malformed specs fail with one line naming the
file, section and key."""

from __future__ import annotations

import pytest

from cin_ml.errors import ConfigError
from cin_ml.external import SMALL_DATA_LIGHTGBM, load_spec, spec_from_dict

from .conftest import DATA, MINI_SPEC, SPECS


@pytest.mark.parametrize("name", [f"uci-{s}-{k}" for s in ("mat", "por") for k in "ABC"])
def test_shipped_specs_load(name):
    spec = load_spec(SPECS / f"{name}.toml")
    assert spec.name == name
    assert spec.data_path().resolve().parent == DATA.resolve()
    assert spec.validation.protocol == "repeated_kfold"
    assert (spec.validation.n_repeats, spec.validation.n_splits) == (20, 10)
    assert spec.rule().columns == ("G3",)
    assert spec.sensitive.columns == ("sex", "school", "address")
    excluded = {"A": (), "B": ("G2",), "C": ("G1", "G2")}[name[-1]]
    assert spec.columns.exclude == excluded
    naive = {"A": "G2 < 10", "B": "G1 < 10", "C": None}[name[-1]]
    assert spec.baseline.naive == naive


def test_small_data_defaults_and_overrides():
    spec = load_spec(SPECS / "uci-por-B.toml")
    lg = spec.lightgbm()
    assert lg.num_leaves == SMALL_DATA_LIGHTGBM["num_leaves"] == 4
    assert lg.min_data_in_leaf == 20
    data = {"dataset": {"name": "x", "file": "x.csv"}, "target": {"event": "y == 1"},
            "model": {"lightgbm": {"num_leaves": 8}}}
    assert spec_from_dict(data).lightgbm().num_leaves == 8
    data["model"]["lightgbm"] = {"num_leafs": 8}
    with pytest.raises(ConfigError, match=r"\[model.lightgbm\]: unknown key 'lightgbm.num_leafs'"):
        spec_from_dict(data)


def test_card_sections_resolve_beside_the_spec():
    spec = load_spec(SPECS / "uci-por-B.toml")
    assert spec.card_sections_path() == SPECS / "uci-por-B.card.toml"
    assert spec.card_sections_path().is_file()
    assert load_spec(SPECS / "uci-mat-A.toml").card_sections_path() is None


@pytest.mark.parametrize(("patch", "message"), [
    (("[target]", "[target]\nthreshold = 3"), r"spec.toml: unknown key 'target.threshold'"),
    (('event = "G3 < 10"', ""), r"spec.toml: missing key 'target.event'"),
    (('separator = ";"', 'separator = ";;"'), r"'format.separator'"),
    (('separator = ";"', 'separator = ";"\nencoding = "klingon"'), r"unknown encoding"),
    (('separator = ";"', 'separator = ";"\nbom = "maybe"'), r"'format.bom'"),
    (('event = "G3 < 10"', 'event = "G3 < "'), r"\[target\] event: rule 'G3 <' is not valid"),
    (('event = "G3 < 10"', 'event = "open(G3) < 1"'),
     r"\[target\] event: rule .*expected a number.*got 'open\(G3\)'"),
    (('name = "mini"', 'name = "../evil"'), r"'dataset.name'"),
    (('columns = ["sex"]', 'columns = ["sex"]\nreference_groups = { age = "15" }'),
     r"reference_groups: \['age'\] not in sensitive.columns"),
    (('columns = ["sex"]', 'columns = ["sex"]\nfeatures = { sex = "  " }'),
     r"need a written justification"),
    (('columns = ["sex"]', 'columns = ["sex"]\n[columns]\nexclude = ["sex"]'),
     r"column 'sex' is in both"),
    (('columns = ["sex"]', 'columns = ["G3"]'), r"target column\(s\) \['G3'\] cannot also be"),
    (("[target]", "[validation]\nprotocol = \"loo\"\n[target]"), r"'validation.protocol'"),
    (("[target]", "[validation]\nn_splits = 1\n[target]"), r"'validation.n_splits'"),
    (("[target]", "[validation]\nprotocol = \"holdout\"\nn_repeats = 5\n[target]"),
     r"n_repeats applies to repeated_kfold"),
    (("[target]", "[baseline]\nnaive = \"G1 <\"\n[target]"), r"\[baseline\] naive: rule"),
    (("[dataset]", "path = 'x'\n[dataset]"), r"unknown key 'path'"),
])
def test_malformed_spec_one_line(write_spec, patch, message):
    old, new = patch
    assert old in MINI_SPEC
    path = write_spec(MINI_SPEC.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message) as exc:
        load_spec(path)
    assert "\n" not in str(exc.value)
    assert str(path) in str(exc.value)


def test_not_toml_and_missing_file(write_spec, tmp_path):
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_spec(write_spec("[dataset\nname = 1"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_spec(tmp_path / "nope.toml")


def test_title_description_and_group_keys():
    base = {"dataset": {"name": "x", "file": "x.csv"}, "target": {"event": "`y 1` == 1"}}
    assert spec_from_dict(base).title() == {"fr": "x", "en": "x"}          # the name, else
    one = {**base, "dataset": {**base["dataset"], "title": "Mon jeu"}}
    assert spec_from_dict(one).title() == {"fr": "Mon jeu", "en": "Mon jeu"}
    half = {**base, "target": {**base["target"], "description": {"fr": "l'échec"}}}
    with pytest.raises(ConfigError, match=r"target.description.*both fr and en"):
        spec_from_dict(half)
    grouped = {**base, "columns": {"group": "person"}, "sensitive": {"columns": ["person"]}}
    with pytest.raises(ConfigError, match=r"\[columns\] group: column 'person' is also in "
                                          r"\[sensitive\] columns"):
        spec_from_dict(grouped)
    with pytest.raises(ConfigError, match=r"\[columns\] id: a column is named twice"):
        spec_from_dict({**base, "columns": {"id": ["a", "a"]}})
