"""The governance key and the head anchor: what the tracking store does not hold.

Someone with write access to the store (a stock ``MlflowClient``, or SQL on the embedded
SQLite file) can rewrite any tag, run or alias. Two things kept *outside* the store make
such edits detectable in the governance history:

- **the governance key**: every event is authenticated with HMAC-SHA-256 under a secret the
  store never sees, so an event cannot be edited, forged or re-chained without it. Same
  handling as the pseudonym key (:mod:`cin_ml.virtual_css.deidentification`): the key file
  named by ``$CIN_ML_GOVERNANCE_KEY_FILE``, else the secret in ``$CIN_ML_GOVERNANCE_KEY``,
  else, only when asked explicitly (``$CIN_ML_GOVERNANCE_DEMO_KEY=1`` or ``demo=True``),
  the public :data:`DEMO_KEY`, which authenticates nothing (anyone can recompute it). A key
  file inside the store's folders is refused.
- **the head anchor**: a small JSON file ``{"store", "seq", "mac", "key_id"}`` naming the
  last event, written atomically after every append, in ``$CIN_ML_GOVERNANCE_ANCHOR_DIR``,
  else beside the key file, else ``$XDG_STATE_HOME/cin-ml/anchors``
  (``~/.local/state/cin-ml/anchors``); one file per store. Deleting the last events (and
  moving the in-store head tag) no longer verifies: the anchor still names the removed head.
  An anchor folder inside the store's folders is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cin_ml.errors import GovernanceError
from cin_ml.store import Store

__all__ = ["ANCHOR_DIR_ENV", "DEMO_ENV", "DEMO_KEY", "KEY_ENV", "KEY_FILE_ENV", "Anchor",
           "GovernanceKey", "resolve_governance_key"]

KEY_ENV = "CIN_ML_GOVERNANCE_KEY"
KEY_FILE_ENV = "CIN_ML_GOVERNANCE_KEY_FILE"
DEMO_ENV = "CIN_ML_GOVERNANCE_DEMO_KEY"
ANCHOR_DIR_ENV = "CIN_ML_GOVERNANCE_ANCHOR_DIR"
DEMO_KEY = "cin-ml-public-governance-demo-key-NOT-SECRET"
"""Fixed, documented demo key: events authenticated with it can be forged by anyone."""
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class Anchor:
    """The head of the chain as last written by cin-ml: ``(seq, mac)``, outside the store."""

    path: Path
    store: str

    def read(self) -> tuple[int, str] | None:
        """``(seq, mac)``, or ``None`` when no anchor was ever written for this store."""
        if not self.path.is_file():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return int(data["seq"]), str(data["mac"])
        except (ValueError, KeyError, TypeError):
            raise GovernanceError(f"governance head anchor {self.path} is unreadable") from None

    def write(self, seq: int, mac: str, key_id: str) -> None:
        """Atomically replace the anchor (write a temporary file, fsync, rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"store": self.store, "seq": seq, "mac": mac, "key_id": key_id},
                          sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".anchor-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class GovernanceKey:
    """The secret that authenticates governance events (``repr`` hides it)."""

    secret: bytes = field(repr=False)
    source: str
    anchor: Anchor
    demo: bool = False

    @property
    def key_id(self) -> str:
        """Public fingerprint: tells which key authenticated an event, reveals nothing."""
        return hmac.new(self.secret, b"cin-ml governance key id", hashlib.sha256
                        ).hexdigest()[:16]

    def mac(self, text: str) -> str:
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def describe(self) -> str:
        if self.demo:
            return (f"the PUBLIC demo governance key ({DEMO_ENV}=1): anyone can forge its "
                    f"events; for the demo only")
        return f"governance key {self.key_id} from {self.source}"


def _inside(path: Path, folders: list[Path]) -> Path | None:
    p = path.resolve()
    for f in folders:
        f = f.resolve()
        if p == f or f in p.parents:
            return f
    return None


def _store_folders(store: Store) -> list[Path]:
    out = []
    if store.sqlite_path is not None:
        out.append(store.sqlite_path.parent)
    if store.artifact_root and "://" not in store.artifact_root:
        out.append(Path(store.artifact_root))
    return out


def _state_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "cin-ml" / "anchors"


def resolve_governance_key(store: Store, demo: bool = False,
                           environ: Mapping[str, str] | None = None) -> GovernanceKey:
    """The governance key and this store's anchor (see the module docstring).

    Raises
    ------
    GovernanceError
        No key (and no demo), a key that is too short or a key file / anchor folder inside
        the store's folders.
    """
    env = os.environ if environ is None else environ
    folders = _store_folders(store)
    key_file = env.get(KEY_FILE_ENV)
    if key_file:
        p = Path(key_file).expanduser()
        if not p.is_file():
            raise GovernanceError(f"governance key file not found: {p} (${KEY_FILE_ENV})")
        if (inside := _inside(p, folders)) is not None:
            raise GovernanceError(f"governance key file {p} lies inside the store's folder "
                                  f"{inside}; keep the key where the store's writers cannot "
                                  f"read it")
        secret, source, is_demo = p.read_bytes().strip(), f"file:{p}", False
    elif env.get(KEY_ENV):
        secret, source, is_demo = env[KEY_ENV].strip().encode(), f"env:{KEY_ENV}", False
    elif demo or env.get(DEMO_ENV, "").strip().lower() in ("1", "true", "yes"):
        secret, source, is_demo = DEMO_KEY.encode(), "demo", True
    else:
        raise GovernanceError(
            f"no governance key: set ${KEY_FILE_ENV} (a file outside the store) or "
            f"${KEY_ENV}; ${DEMO_ENV}=1 uses a public key, for the demo only")
    if len(secret) < MIN_KEY_BYTES:
        raise GovernanceError(f"governance key from {source} is {len(secret)} bytes; at least "
                              f"{MIN_KEY_BYTES} are required")
    if env.get(ANCHOR_DIR_ENV):
        anchor_dir = Path(env[ANCHOR_DIR_ENV]).expanduser()
    elif key_file:
        anchor_dir = Path(key_file).expanduser().resolve().parent
    else:
        anchor_dir = _state_home(env)
    if (inside := _inside(anchor_dir, folders)) is not None:
        raise GovernanceError(f"governance anchor folder {anchor_dir} lies inside the store's "
                              f"folder {inside}; it must live outside the store "
                              f"(${ANCHOR_DIR_ENV})")
    store_id = hashlib.sha256(store.tracking_uri.encode("utf-8")).hexdigest()[:16]
    anchor = Anchor(anchor_dir / f"cin-ml-governance-{store_id}.head", store.tracking_uri)
    return GovernanceKey(secret, source, anchor, is_demo)
