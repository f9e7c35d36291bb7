"""The output folder of a corpus run: constants, atomic writes, part files, state and lock."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re

from ..atomic import atomic_write, write_json
from ..labels import LABELS


STATE_FILE = "_state.json"
LOCK_FILE = "_lock"
FORMAT_VERSION = 1
PROB_COLUMNS = tuple(f"p_{name}" for name in LABELS)
_PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")
_META_KEY = b"stancelib"


class CorpusError(ValueError):
    """Bad settings, an input that cannot be read, or an output that fails its checks."""


def _part_name(k: int) -> str:
    return f"part-{k:05d}.parquet"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _write_json(path: str, obj: dict) -> None:
    write_json(path, obj, sort_keys=True)  # the project's one atomic writer (stancelib.atomic)


def _write_parquet(path: str, table) -> None:
    import pyarrow.parquet as pq

    atomic_write(path, lambda f: pq.write_table(table, f))


# ---- the output folder ---------------------------------------------------------

@contextlib.contextmanager
def _locked(folder: str):
    """Hold an exclusive lock on ``folder/_lock`` (two writers on one folder would corrupt it)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    fd = os.open(os.path.join(folder, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CorpusError(f"{folder} is being written by another process (it holds {LOCK_FILE}); "
                              "give each worker its own output folder") from None
        except OSError:
            pass  # a file system without locks (some NFS setups): go on unlocked
        yield
    finally:
        os.close(fd)  # releases the lock


def _list_parts(folder: str) -> list[str]:
    """The part files of ``folder`` in order; raise if numbers are missing."""
    found = sorted((int(m.group(1)), name) for name in os.listdir(folder) if (m := _PART_RE.match(name)))
    for expected, (k, name) in enumerate(found):
        if k != expected:
            raise CorpusError(f"{folder}: part files are not numbered 0, 1, 2, ...: {_part_name(expected)} is "
                              f"missing but {name} exists; the folder was changed by hand, start a new one")
    return [os.path.join(folder, name) for _, name in found]


def _part_info(path: str) -> dict:
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    info = json.loads((meta.metadata or {}).get(_META_KEY, b"{}"))
    info["num_rows"] = meta.num_rows
    return info


def _read_state(folder: str) -> dict | None:
    path = os.path.join(folder, STATE_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _model_identity(clf) -> dict:
    meta = getattr(clf, "metadata", None) or {}
    return {"labels": list(clf.labels), "max_length": getattr(clf, "max_length", None),
            "run_name": meta.get("run_name"), "created": meta.get("created")}


def _check_shard(shard) -> tuple[int, int] | None:
    if shard is None:
        return None
    try:
        i, n = (int(x) for x in shard)
    except (TypeError, ValueError):
        raise CorpusError(f"shard must be a pair (i, n), got {shard!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise CorpusError(f"shard {i}/{n}: need 0 <= i < n")
    return i, n
