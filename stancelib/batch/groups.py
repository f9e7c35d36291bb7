"""Sentence rows regrouped into their documents (``doc``/``i``), so that a context-aware model
reads each sentence with its neighbours; used by ``predict_file(group_by_doc=True)`` and the
Ray engine alike, so both give the same labels.

A row's document is the value of its doc column; its place in the document is its index
column (``i``), ties and missing indices falling back to input order. A row with no doc
(null or blank) is a document of its own: it is read alone, as ``predict_proba`` reads it.
Rows of one document need not be consecutive in the input.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..labels import LABELS
from ..sentences import has_text
from .folder import PROB_COLUMNS
from .predict import _failed
from .reader import _text_problem


def doc_key(value) -> str | None:
    """The document a row belongs to, as text (``None``: the row stands alone). JSON text for
    non-strings, so that ``7`` from JSONL and ``"7"`` from CSV are one document each way."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    return json.dumps(value, sort_keys=True, default=str)


def sentence_index(value, column: str = "i") -> tuple[int | None, str | None]:
    """``(index, error)`` from an index value: an int, an integral float, or digits in a string
    (CSV); ``None`` when missing. Anything else is a bad row, since its order is unknown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    if isinstance(value, bool):
        return None, f"{column} is {value!r}, not a sentence index"
    if isinstance(value, int):
        return value, None
    if isinstance(value, float) and value.is_integer():
        return int(value), None
    if isinstance(value, str):
        if not value.strip():
            return None, None
        try:
            return int(value.strip()), None
        except ValueError:
            pass
    return None, f"{column} is {value!r}, not a sentence index (an integer)"


def group_documents(items, index_column: str = "i") -> tuple[list[list], dict[int, str]]:
    """``(documents, errors)`` for ``items`` = ``[(row, text, id, error, (doc, i)), ...]``:
    each document is its items in reading order; ``errors`` maps a row to a bad index."""
    docs: dict[str, list] = {}
    alone: list[list] = []
    errors: dict[int, str] = {}
    for item in items:
        doc, index = item[4][0], item[4][1] if len(item[4]) > 1 else None
        key = doc_key(doc)
        if key is None:
            alone.append([(None, item)])
            continue
        k, err = sentence_index(index, index_column)
        if err:
            errors[item[0]] = err
        docs.setdefault(key, []).append((k, item))
    out = []
    for members in list(docs.values()) + alone:
        members.sort(key=lambda m: (m[0] is None, m[0] or 0, m[1][0]))  # by index, then input row
        out.append([item for _, item in members])
    return out, errors


def document_records(clf, documents, bad_index: dict[int, str] | None = None) -> dict[int, dict]:
    """Output record per row (the sentence columns of ``predict --input``) for whole documents,
    each a list of items in reading order, labelled by one ``clf.predict_proba_documents`` call.

    A bad row (no text, not a string, bad index) gets its error and drops out of its document;
    a blank one gets a null label and stays out too (it is no sentence). If the batched call
    fails, each document is retried alone, so a document that breaks the model costs its rows."""
    bad_index = bad_index or {}
    records: dict[int, dict] = {}
    sentences: list[list[str]] = []
    members: list[list[int]] = []
    for doc in documents:
        texts, rows = [], []
        for row, text, ident, error, *_ in doc:
            error = error or _text_problem(text) or bad_index.get(row)
            records[row] = {"row": row, "id": ident, "text": None if error else text, "error": error}
            if error is None and has_text(text):
                texts.append(text)
                rows.append(row)
        if rows:
            sentences.append(texts)
            members.append(rows)
    order = [clf.labels.index(name) for name in LABELS]
    try:
        probs = clf.predict_proba_documents(sentences) if sentences else []
    except Exception:  # noqa: BLE001 - isolate the document that breaks below
        probs = []
        for texts, rows in zip(sentences, members):
            try:
                probs.append(clf.predict_proba_documents([texts])[0])
            except Exception as e:  # noqa: BLE001
                for row in rows:
                    records[row].update(error=_failed(e))
                probs.append(None)
    for rows, p in zip(members, probs):
        if p is None:
            continue
        p = np.asarray(p, dtype=np.float32)[:, order]
        for row, q in zip(rows, p):
            if np.isnan(q).any():
                continue
            records[row]["label"] = LABELS[int(q.argmax())]
            records[row].update(zip(PROB_COLUMNS, map(float, q)))
    return records


class GroupedPredictor:
    """Labels chunks of rows (in input order) of an input held whole in memory, each row with
    its document's neighbours. A document that reaches past a chunk is labelled once: the rows
    after the chunk wait in ``ahead`` for their own chunk."""

    def __init__(self, clf, items, index_column: str = "i"):
        self.clf = clf
        self.by_row = {item[0]: item for item in items}
        docs, self.bad_index = group_documents(items, index_column)
        self.docs = [[item[0] for item in doc] for doc in docs]
        self.doc_of = {row: d for d, rows in enumerate(self.docs) for row in rows}
        self.ahead: dict[int, dict] = {}

    def chunk(self, items, schema):
        import pyarrow as pa

        need = sorted({self.doc_of[item[0]] for item in items if item[0] not in self.ahead})
        docs = [[self.by_row[row] for row in self.docs[d]] for d in need]
        self.ahead.update(document_records(self.clf, docs, self.bad_index))
        out = [self.ahead.pop(item[0]) for item in items]
        return pa.Table.from_pylist([{name: rec.get(name) for name in schema.names} for rec in out], schema=schema)
