"""Subprocess actor for crash and concurrency tests.

``python _actor.py promote MODEL VERSION OPERATOR [START_AT]`` (and ``review``): waits until
the wall-clock ``START_AT`` if given, then acts on the store named by the environment.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.governance._policy import make_test_ctx  # noqa: E402


def main(argv: list[str]) -> int:
    action, model, version, who = argv[:4]
    ctx = make_test_ctx()
    if len(argv) > 4:
        time.sleep(max(0.0, float(argv[4]) - time.time()))
    from cin_ml.errors import CinMLError
    from cin_ml.registry import promote, review

    try:
        if action == "promote":
            promote(ctx, model, version, operator=who, why="concurrent")
        else:
            review(ctx, model, version, reviewer=who, approve=True, comment="ok")
    except CinMLError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
