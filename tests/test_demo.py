"""`make demo`, one of the README's two commands, runs the whole chain as a user runs it: a
clean environment, an empty folder, the default size. (Its dropout card once crashed while
every unit test passed.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_end_to_end_in_a_clean_environment(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "COLUMNS": "200"}
    done = subprocess.run([str(bin_dir / "cin-ml"), "demo"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=1200)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "Traceback" not in out
    for path in re.findall(r"reports/\S+\.html", out):
        assert (tmp_path / path).is_file(), f"the demo names {path}, which is missing"
    assert (tmp_path / "reports" / "virtual_css" / "virtual" / "report.en.html").is_file()
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    for model in ("cin-ecriture-4e", "cin-decrochage"):
        assert str(client.get_model_version_by_alias(model, "champion").version) == "1"
    assert "[bold]" not in out, "markup printed literally"
    assert re.search(r"cin-ml review-app --demo-key --store sqlite:///\S+mlruns/mlflow\.db",
                     out), "the demo does not say how to open the review page"
    verify = subprocess.run([str(bin_dir / "cin-ml"), "history", "--verify", "--demo-key"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr
