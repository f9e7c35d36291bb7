"""Shared pieces of the corpus adapters: where the data lives, the held-out and tuning
splits, the partial label sets, and record helpers."""

from __future__ import annotations

import csv
import os
from typing import Iterable

from ..data import DataError, validate_record

ENV_VAR = "STANCELIB_DATA"
# the ``corpus`` names of trainable records (per-corpus settings of the news-mix recipe use them)
CORPUS_NAMES = ("polnear", "checkthat", "newssd", "babe")
HELD_OUT = {"polnear": "test", "checkthat": "dev_test", "babe": "heldout"}
# the dev splits a recipe is tuned on (``trainable_records(keep_dev_out=True)`` leaves them out)
TUNING_SETS = {"polnear": "dev", "checkthat": "dev"}

NONE_ALLOWED = ["neutral_report", "unattributed_claim"]
OBJ_ALLOWED = ["neutral_report", "attributed_statement"]
ALL_ALLOWED = ["neutral_report", "attributed_statement", "unattributed_claim"]

_POLNEAR_SPLITS = ("train", "dev", "test")
_CHECKTHAT_SPLITS = ("train", "dev", "dev_test")
_NEWSSD_FILES = ("train", "val", "test")
_BABE_SPLITS = ("train", "heldout")


# --------------------------------------------------------------------------- paths

def data_root(root: str | None = None) -> str:
    """The corpora folder: ``root``, else ``$STANCELIB_DATA``, else ``../shared/data``."""
    if root is None:
        root = os.environ.get(ENV_VAR) or os.path.join("..", "shared", "data")
    path = os.path.abspath(root)
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"real-news corpora folder not found: {path} "
            f"(pass root=... or set the environment variable {ENV_VAR} to the folder that holds "
            f"polnear/, checkthat2025-subjectivity-en/, newssd-eng/ and babe/)"
        )
    return path


def _need(path: str) -> str:
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"corpus path not found: {path} "
            f"(pass root=... or set the environment variable {ENV_VAR} to the folder that holds the corpora)"
        )
    return path


def _check_split(split: str, allowed: tuple[str, ...], corpus: str) -> None:
    if split not in allowed:
        raise ValueError(f"unknown {corpus} split {split!r} (expected one of {', '.join(allowed)})")


def _norm(text: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped."""
    return " ".join(text.split())


def text_key(text: str) -> str:
    """Key for duplicate detection: lower-cased, whitespace collapsed."""
    return _norm(text).lower()


def _record(raw: dict, where: str) -> dict:
    return validate_record(raw, where) | {"_where": where}


def _read_table(path: str, delimiter: str, needed: tuple[str, ...]) -> Iterable[tuple[str, dict]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}:1: header lacks column(s) {', '.join(missing)}")
        for row in reader:
            yield f"{path}:{reader.line_num}", row
