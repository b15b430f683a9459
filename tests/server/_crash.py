"""``python _crash.py URL GOVERNANCE_TOML USER ACTION JSON_PARAMS``: perform one action as
the governance service would, in this process, with ``$CIN_ML_FAULT`` set by the caller:
the process dies at the fault point (``os._exit``, like SIGKILL) mid-action."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str]) -> int:
    url, config, user, action, params = argv[:5]
    from cin_ml.server import GovernanceService

    svc = GovernanceService(url, "cin-governance", governance_config=Path(config))
    svc.perform(user, action, json.loads(params))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
