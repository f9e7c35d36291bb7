"""Sentence records from JSONL or CSV files, validated, as ``datasets.Dataset``.

One record per sentence: ``text`` and ``label`` are required; ``doc``, ``i``,
``start``, ``end``, ``source``, ``cue``, ``hard`` and ``gold`` are optional.

Partial labels: a record from a corpus that can only narrow the label down (a
CheckThat! "OBJ" sentence is neutral *or* attributed) has ``label: null`` and
``allowed: [...]``, the labels it may have; a definite record has
``allowed == [label]``. ``gold`` keeps the corpus's own label ("OBJ", "SUBJ", ...)
for the binary scores on real news. ``source``
and ``cue`` are spans of the sentence: either the exact substring or
``{"start": s, "end": e, "text": t}`` with offsets into the sentence.

Every problem is reported with the file and line it comes from, because the
person who has to fix it is looking at that file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from typing import Iterable

from .labels import LABELS



class DataError(ValueError):
    """A data file is malformed; the message names the file and line."""


FIELDS = ("text", "label", "allowed", "doc", "i", "start", "end", "source", "cue", "hard", "gold")


def find_span(value: str, text: str) -> int:
    """Start of ``value`` in ``text``: the first whole-word occurrence, else the first at all.

    A pronoun source such as "he" must not be found inside "the".
    """
    m = re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text)
    return m.start() if m else text.find(value)


def _span(value, text: str, where: str, name: str):
    """Normalise a source/cue value to ``{"start", "end", "text"}`` or ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        start = find_span(value, text)
        if start < 0:
            raise DataError(f"{where}: {name} {value!r} is not a substring of the text")
        return {"start": start, "end": start + len(value), "text": value}
    if isinstance(value, dict) and {"start", "end"} <= set(value):
        start, end = value["start"], value["end"]
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise DataError(f"{where}: {name} offsets {start}-{end} lie outside the text")
        span = text[start:end]
        if "text" in value and value["text"] != span:
            raise DataError(f"{where}: {name} text {value['text']!r} does not match offsets ({span!r})")
        return {"start": start, "end": end, "text": span}
    raise DataError(f"{where}: {name} must be a substring or a {{start, end}} object")


def validate_record(raw: dict, where: str, require_label: bool = True) -> dict:
    """Check one raw record and return it in canonical form."""
    if not isinstance(raw, dict):
        raise DataError(f"{where}: expected an object, got {type(raw).__name__}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: missing or empty 'text'")
    label = raw.get("label")
    allowed = raw.get("allowed")
    if allowed is not None:
        if not isinstance(allowed, list) or not allowed or any(a not in LABELS for a in allowed):
            raise DataError(f"{where}: 'allowed' must be a non-empty list of labels from {', '.join(LABELS)}")
        if label not in (None, "") and allowed != [label]:
            raise DataError(f"{where}: label {label!r} contradicts allowed {allowed}")
    if label in (None, "") and (allowed or not require_label):
        label = None
    elif label not in LABELS:
        raise DataError(f"{where}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
    rec = {"text": text, "label": label, "allowed": [label] if label else (sorted(allowed, key=LABELS.index) if allowed else None)}
    rec["doc"] = str(raw["doc"]) if raw.get("doc") not in (None, "") else None
    for key in ("i", "start", "end"):
        val = raw.get(key)
        if val in (None, ""):
            rec[key] = None
            continue
        try:
            rec[key] = int(val)
        except (TypeError, ValueError):
            raise DataError(f"{where}: {key!r} must be an integer, got {val!r}") from None
    rec["source"] = _span(raw.get("source"), text, where, "source")
    rec["cue"] = _span(raw.get("cue"), text, where, "cue")
    hard = raw.get("hard")
    rec["hard"] = "" if hard in (None, False, "", "false", "False", "0") else str(hard)
    rec["gold"] = None if raw.get("gold") in (None, "") else str(raw["gold"])
    return rec


def _read_jsonl(path: str) -> Iterable[tuple[str, dict]]:
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{where}: malformed JSON ({e.msg} at column {e.colno})") from None


def _read_csv(path: str) -> Iterable[tuple[str, dict]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise DataError(f"{path}:1: CSV header must name a 'text' column")
        for row in reader:
            yield f"{path}:{reader.line_num}", row


def read_records(path: str, require_label: bool = True) -> list[dict]:
    """Read and validate a JSONL (``.jsonl``/``.json``) or CSV file of sentences."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data file not found: {path}")
    reader = _read_csv if path.lower().endswith(".csv") else _read_jsonl
    return [validate_record(raw, where, require_label) | {"_where": where} for where, raw in reader(path)]


def check_disjoint(splits: dict[str, list[dict]]) -> None:
    """Raise if the same sentence text occurs in two splits (a leak between train and test)."""
    seen: dict[str, tuple[str, str]] = {}
    for name, records in splits.items():
        for rec in records:
            key = " ".join(rec["text"].split()).lower()
            if key in seen and seen[key][0] != name:
                other_split, other_where = seen[key]
                raise DataError(
                    f"{rec.get('_where', name)}: sentence also in split {other_split!r} "
                    f"({other_where}): {rec['text'][:80]!r}"
                )
            seen.setdefault(key, (name, rec.get("_where", name)))


def to_dataset(records: list[dict]):
    """Records -> ``datasets.Dataset`` (the ``_where`` bookkeeping field is dropped)."""
    import datasets

    span = datasets.Features({"start": datasets.Value("int32"), "end": datasets.Value("int32"), "text": datasets.Value("string")})
    features = datasets.Features({
        "text": datasets.Value("string"),
        "label": datasets.Value("string"),
        "allowed": datasets.Sequence(datasets.Value("string")),
        "doc": datasets.Value("string"),
        "i": datasets.Value("int32"),
        "start": datasets.Value("int32"),
        "end": datasets.Value("int32"),
        "source": span,
        "cue": span,
        "hard": datasets.Value("string"),
        "gold": datasets.Value("string"),
    })
    rows = {key: [rec[key] for rec in records] for key in FIELDS}
    return datasets.Dataset.from_dict(rows, features=features)


def load_dataset(path: str):
    """Read, validate and convert one file: ``load_dataset("data/corpus/train.jsonl")``."""
    return to_dataset(read_records(path))


def load_minimal_pairs(path: str, split: str | None = None) -> list[dict]:
    """Expand minimal-pair groups into sentence records (``doc`` is the group id).

    Each line holds a group: ``group``, ``split``, ``neutral``, ``attributed``
    (with ``source`` and ``cue``), ``unattributed`` and its ``kind``. A group of
    two (e.g. an act beside a statement) gives the member it lacks as JSON
    ``null``; every key must be present and at least two members non-null.
    """
    records = []
    for where, raw in _read_jsonl(path):
        if split is not None and raw.get("split") != split:
            continue
        if not isinstance(raw.get("group"), str) or not raw["group"].strip():
            raise DataError(f"{where}: minimal-pair group needs a non-empty 'group'")
        members = ("neutral", "attributed", "unattributed")
        for key in members:
            if key in raw and raw[key] is None:
                continue
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise DataError(f"{where}: minimal-pair group needs a non-empty {key!r}")
        if sum(raw[key] is not None for key in members) < 2:
            raise DataError(f"{where}: minimal-pair group needs at least two members")
        for i, label in enumerate(LABELS):
            member = raw[label.split("_")[0]]
            if member is None:
                continue
            spans = {"source": raw.get("source"), "cue": raw.get("cue")} if label == "attributed_statement" else {}
            rec = validate_record({"text": member, "label": label, "doc": raw["group"], "i": i, **spans}, where)
            records.append(rec | {"_where": where})
    return records


def file_sha256(path: str) -> str:
    """Content hash recorded in a model's metadata, so a run names exactly what it learnt from."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
