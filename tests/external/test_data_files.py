"""The UCI files shipped with the project are the paper's data, unchanged, with attribution."""

from __future__ import annotations

import pytest

from cin_ml.external import file_sha256

from .conftest import DATA

SHA256 = {
    "student-mat.csv": "e47f9ee225e1ee6e69b7564e6dac7123e80b8486677fe111f351964cef5dec80",
    "student-por.csv": "a7594a11d7771c0efe1a740824e0e833da9c4cad07c39a9766a874575563fb3f",
    "student.txt": "f8d3e734e237071312790ca667330c66d75e706317f8d5e2125c479d70e962c1",
}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_sha256_unchanged(name):
    assert file_sha256(DATA / name) == SHA256[name]


@pytest.mark.parametrize(("name", "rows", "passed"), [("student-mat.csv", 395, 265),
                                                      ("student-por.csv", 649, 549)])
def test_shape_and_pass_rate(name, rows, passed):
    import pandas as pd

    df = pd.read_csv(DATA / name, sep=";")
    assert df.shape == (rows, 33)
    assert int((df["G3"] >= 10).sum()) == passed


def test_attribution_and_licence():
    text = (DATA / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "Cortez" in text and "Silva" in text
    assert "No changes were made" in text
    for name, sha in SHA256.items():
        assert name in text and sha in text
    assert "creativecommons.org/licenses/by/4.0" in (DATA / "LICENSE").read_text()
