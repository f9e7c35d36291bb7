"""CheckThat! 2025 task 1 (English) -> :func:`load_checkthat`, and NewsSD-ENG -> :func:`load_newssd`.

Files: ``checkthat2025-subjectivity-en/task1/data/english/{train_en,dev_en,dev_test_en}.tsv``
(tab separated, CSV quoting, header ``sentence_id sentence label [solved_conflict]``).
``SUBJ`` -> ``label: unattributed_claim``; ``OBJ`` -> ``label: None``,
``allowed: [neutral_report, attributed_statement]``. ``gold`` is ``"SUBJ"`` or
``"OBJ"``, ``doc`` the ``sentence_id``; whitespace runs in the text are collapsed
to one space. Known losses: an objective sentence may be neutral or attributed;
SUBJ covers subjective *tone* (opinion, loaded words, sarcasm), which is a claim
in the writer's voice, but a subjective sentence inside a quote with a named
speaker would be ``attributed_statement`` in our scheme (mapped wrongly; rare).

NewsSD-ENG -> :func:`load_newssd`
---------------------------------
Files: ``newssd-eng/data/english/{train,val,test}.csv`` (columns ``Sentence``,
``Label``, ``Solved conflict``; sentences contain embedded newlines). Same
mapping as CheckThat!, whitespace collapsed, ``doc`` is ``newssd-<file>-<row>``.
Most sentences are also in CheckThat!, so a row is **dropped** when its text
(lower-cased, whitespace collapsed) occurs in any CheckThat! split (train, dev
or dev_test) and when it repeats an earlier NewsSD row. The NewsSD splits are
all trainable: no NewsSD file is held out. In the snapshot in ``../shared/data``
this leaves **no row at all**: NewsSD train + val are exactly CheckThat! train
and NewsSD test lies inside CheckThat! dev, with the same labels; the adapter
is kept so that a different NewsSD release is handled correctly.
"""

from __future__ import annotations

import os

from ..data import DataError
from .common import (_CHECKTHAT_SPLITS, _NEWSSD_FILES, OBJ_ALLOWED, _check_split, _need, _norm, _read_table, _record,
                     data_root, text_key)


def _subj_obj(label: str, text: str, doc: str, where: str) -> dict:
    label = label.strip()
    if label == "SUBJ":
        raw = {"label": "unattributed_claim", "allowed": ["unattributed_claim"]}
    elif label == "OBJ":
        raw = {"label": None, "allowed": list(OBJ_ALLOWED)}
    else:
        raise DataError(f"{where}: unknown subjectivity label {label!r} (expected OBJ or SUBJ)")
    return _record(raw | {"text": _norm(text), "doc": doc, "gold": label}, where)


def _checkthat_path(split: str, root: str | None) -> str:
    _check_split(split, _CHECKTHAT_SPLITS, "CheckThat!")
    return _need(os.path.join(data_root(root), "checkthat2025-subjectivity-en", "task1", "data", "english", f"{split}_en.tsv"))


def load_checkthat(split: str, root: str | None = None) -> list[dict]:
    """CheckThat! 2025 English sentences of ``split`` (train, dev or dev_test; dev_test is held out)."""
    path = _checkthat_path(split, root)
    return [_subj_obj(row["label"] or "", row["sentence"] or "", row["sentence_id"], where)
            for where, row in _read_table(path, "\t", ("sentence_id", "sentence", "label"))]


def load_newssd(root: str | None = None) -> list[dict]:
    """NewsSD-ENG sentences not in CheckThat! (any split) and not repeated within NewsSD."""
    base = os.path.join(data_root(root), "newssd-eng", "data", "english")
    paths = [_need(os.path.join(base, f"{name}.csv")) for name in _NEWSSD_FILES]
    seen = {text_key(r["text"]) for split in _CHECKTHAT_SPLITS for r in load_checkthat(split, root)}
    records = []
    for name, path in zip(_NEWSSD_FILES, paths):
        for row_no, (where, row) in enumerate(_read_table(path, ",", ("Sentence", "Label")), 1):
            key = text_key(row["Sentence"] or "")
            if key in seen:
                continue
            seen.add(key)
            records.append(_subj_obj(row["Label"] or "", row["Sentence"] or "", f"newssd-{name}-{row_no}", where))
    return records
