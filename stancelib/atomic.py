"""The one atomic writer: a file or a whole folder appears complete under its name, or not at all.

``atomic_write(path, write)`` writes a file through a hidden temporary beside it, flushed to disk
before the rename; ``atomic_save(write, folder)`` builds a folder in a hidden temporary folder and
swaps it in with one rename. An interrupted write leaves at worst a hidden ``.tmp`` entry beside
the target, never a half-written file or folder under the target's name.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid


def _replace(src: str, dst: str) -> None:
    """``os.replace``; a separate name so that tests can simulate a crash at each rename."""
    os.replace(src, dst)


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, write) -> None:
    """Call ``write(binary_file)`` on a hidden temporary file beside ``path``, flush it to
    disk and rename it to ``path``: readers see the old file or the whole new one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


def write_text(path: str, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def write_json(path: str, obj, **kwargs) -> None:
    atomic_write(path, lambda f: f.write(json.dumps(obj, indent=2, **kwargs).encode("utf-8")))


def atomic_save(write, target: str) -> None:
    """Call ``write(tmpdir)`` and move the result to ``target`` in one rename."""
    parent = os.path.dirname(os.path.abspath(target)) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.tmp-", dir=parent)
    try:
        write(tmp)
        old = None
        if os.path.exists(target):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old-", dir=parent)
            os.rmdir(old)
            os.replace(target, old)
        os.replace(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
