"""BABE (SG2) -> :func:`load_babe`: media-bias sentences, ``label_opinion``.

File: ``babe/data/final_labels_SG2.csv`` (``;`` separated, UTF-8 with BOM).
``train`` = rows whose ``outlet`` is not Reuters, ``heldout`` = rows whose
``outlet`` is Reuters. ``label_opinion`` (curly and straight apostrophes are
treated alike): "Expresses writer's opinion" -> ``unattributed_claim``;
"Entirely factual" -> ``label: None``, ``allowed: [neutral_report,
attributed_statement]``; "Somewhat factual but also opinionated" and "No
agreement" are dropped. ``gold`` is the ``label_opinion`` string as written in
the file, ``doc`` the ``news_link`` (the article; ``babe-SG2-<line>`` when the
link is empty), whitespace collapsed.
Known losses: the middle category is lost; "factual" sentences may still carry
a vague source. The Reuters held-out part is almost all "Entirely factual"
(one opinion row in the snapshot), so it measures false alarms of
``unattributed_claim`` rather than its recall.
"""

from __future__ import annotations

import os

from .common import _BABE_SPLITS, OBJ_ALLOWED, _check_split, _need, _norm, _read_table, _record, data_root

BABE_OPINION = "Expresses writer's opinion"
BABE_FACTUAL = "Entirely factual"


def load_babe(split: str, root: str | None = None) -> list[dict]:
    """BABE SG2 sentences: ``train`` = outlets other than Reuters, ``heldout`` = Reuters."""
    _check_split(split, _BABE_SPLITS, "BABE")
    path = _need(os.path.join(data_root(root), "babe", "data", "final_labels_SG2.csv"))
    records = []
    for where, row in _read_table(path, ";", ("text", "outlet", "label_opinion")):
        is_reuters = _norm(row["outlet"] or "").lower() == "reuters"
        if is_reuters != (split == "heldout"):
            continue
        gold = (row["label_opinion"] or "").strip()
        value = gold.replace("\u2019", "'")
        if value == BABE_OPINION:
            raw = {"label": "unattributed_claim", "allowed": ["unattributed_claim"]}
        elif value == BABE_FACTUAL:
            raw = {"label": None, "allowed": list(OBJ_ALLOWED)}
        else:
            continue
        doc = (row.get("news_link") or "").strip() or f"babe-SG2-{where.rsplit(':', 1)[1]}"
        records.append(_record(raw | {"text": _norm(row["text"] or ""), "doc": doc, "gold": gold}, where))
    return records
