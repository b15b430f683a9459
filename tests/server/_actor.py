"""``python _actor.py URL USER PASSWORD ACTION JSON_PARAMS [START_AT]``: one governance
action on a team server in its own process (concurrency tests)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str]) -> int:
    url, user, password, action, params = argv[:5]
    if len(argv) > 5:
        time.sleep(max(0.0, float(argv[5]) - time.time()))
    from cin_ml.errors import CinMLError
    from cin_ml.registry import act_on_server

    try:
        out = act_on_server(url, action, json.loads(params), username=user, password=password)
    except CinMLError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
