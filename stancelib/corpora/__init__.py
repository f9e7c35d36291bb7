"""Adapters from the real news corpora in ``../shared/data`` to stancelib sentence records.

None of the four corpora uses our three labels (``../shared/LABELS.md``), so each
adapter applies a documented, lossy mapping and returns *partial* labels where the
corpus can only narrow the label down: ``label: None`` plus ``allowed: [...]`` (see
:mod:`stancelib.data`). Every record is passed through
:func:`stancelib.data.validate_record` with ``where = "<file>:<line or offset>"``
and comes back in canonical form, with that ``where`` kept as ``_where`` (as
:func:`stancelib.data.read_records` does). The corpus's own label is kept in
``gold``.

**Licences forbid copying the corpora into the project.** This package only reads
them; nothing here (code, docstrings, tests) contains or caches their text.

Where the data lives
--------------------
Every public function takes ``root``, the folder that holds ``polnear/``,
``checkthat2025-subjectivity-en/``, ``newssd-eng/`` and ``babe/``. When ``root``
is ``None`` it is the environment variable ``STANCELIB_DATA`` or, failing that,
``../shared/data`` relative to the current directory. A missing folder or file
raises :class:`FileNotFoundError` naming the path and how to point stancelib at it.

Held-out splits (:data:`HELD_OUT`) are for evaluation only:
PolNeAR ``test``, CheckThat! ``dev_test`` and BABE ``heldout`` (outlet Reuters).
:func:`trainable_records` never returns them, nor any sentence whose text
(lower-cased, whitespace collapsed) also occurs in one of them; it also keeps
one copy of a repeated text and drops a text whose copies disagree on
``allowed``. The dev splits (:data:`TUNING_SETS`: PolNeAR ``dev``, CheckThat!
``dev``) are what a recipe is tuned on; ``trainable_records(keep_dev_out=True)``
leaves them out of training for that.

The adapters live in one module per corpus: :mod:`.polnear` (with the word lists of
:mod:`.lexicon`), :mod:`.subjectivity` (CheckThat! and NewsSD-ENG) and :mod:`.babe`; each
module's docstring documents its mapping and what it loses.

Example::

    >>> recs = load_checkthat("train", root="/path/to/shared/data")  # doctest: +SKIP
    >>> recs[0]["label"], recs[0]["allowed"], recs[0]["gold"]      # doctest: +SKIP
    (None, ['neutral_report', 'attributed_statement'], 'OBJ')

An (invented) PolNeAR article "Mayor Ana Ortiz said the bridge will reopen in May.
Rain fell on Sunday." with one ``said`` attribution gives an ``attributed_statement``
record (source "Mayor Ana Ortiz", cue "said") and a ``none`` record for the
second sentence.
"""

from __future__ import annotations

from .babe import BABE_FACTUAL, BABE_OPINION, load_babe
from .common import ALL_ALLOWED, CORPUS_NAMES, ENV_VAR, HELD_OUT, NONE_ALLOWED, OBJ_ALLOWED, TUNING_SETS, data_root, text_key
from .lexicon import cue_qualifies, impersonal_cue, source_kind, vague_source
from .polnear import load_polnear, polnear_article
from .references import ReferenceError, load_real_news
from .subjectivity import load_checkthat, load_newssd

__all__ = [
    "ALL_ALLOWED", "BABE_FACTUAL", "CORPUS_NAMES", "BABE_OPINION", "ENV_VAR", "HELD_OUT", "NONE_ALLOWED", "OBJ_ALLOWED", "TUNING_SETS",
    "cue_qualifies", "data_root", "held_out_records", "impersonal_cue", "load_babe", "load_checkthat", "load_newssd",
    "load_polnear", "load_real_news", "polnear_article", "ReferenceError", "source_kind", "text_key", "trainable_records",
    "vague_source",
]


def held_out_records(root: str | None = None) -> list[dict]:
    """The held-out splits (evaluation only): PolNeAR test, CheckThat! dev_test, BABE Reuters."""
    return (load_polnear(HELD_OUT["polnear"], root) + load_checkthat(HELD_OUT["checkthat"], root)
            + load_babe(HELD_OUT["babe"], root))


def trainable_records(root: str | None = None, keep_dev_out: bool = False) -> list[dict]:
    """Everything that may be trained or tuned on, never a held-out split.

    PolNeAR train, CheckThat! train, PolNeAR dev, CheckThat! dev, NewsSD-ENG
    (deduplicated) and BABE train, in that order; each record names its ``corpus``. With
    ``keep_dev_out`` the dev splits (PolNeAR dev, CheckThat! dev, the sets of
    :data:`TUNING_SETS`) stay out, so that a recipe can be tuned on them. A
    sentence whose text (lower-cased, whitespace collapsed) occurs in a held-out
    split (PolNeAR test including its ambiguous sentences, CheckThat! dev_test,
    BABE Reuters) is dropped. Repeated texts keep their first record, except that
    a text whose copies disagree on ``allowed`` (a short "Why?" that is a plain
    sentence in one article and a quote in another) is dropped altogether.
    """
    held = {text_key(r["text"]) for r in
            load_polnear(HELD_OUT["polnear"], root, include_ambiguous=True)
            + load_checkthat(HELD_OUT["checkthat"], root) + load_babe(HELD_OUT["babe"], root)}
    if keep_dev_out:  # the tuning sets must not leak into training through a repeated text either
        held |= {text_key(r["text"]) for r in load_polnear(TUNING_SETS["polnear"], root, include_ambiguous=True)
                 + load_checkthat(TUNING_SETS["checkthat"], root)}
    parts = [("polnear", load_polnear("train", root)), ("checkthat", load_checkthat("train", root))]
    if not keep_dev_out:
        parts += [("polnear", load_polnear(TUNING_SETS["polnear"], root)),
                  ("checkthat", load_checkthat(TUNING_SETS["checkthat"], root))]
    parts += [("newssd", load_newssd(root)), ("babe", load_babe("train", root))]
    records = [rec | {"corpus": corpus} for corpus, recs in parts for rec in recs]
    allowed_sets: dict[str, set[tuple[str, ...]]] = {}
    for rec in records:
        allowed_sets.setdefault(text_key(rec["text"]), set()).add(tuple(rec["allowed"]))
    out, seen = [], set()
    for rec in records:
        key = text_key(rec["text"])
        if key in held or key in seen or len(allowed_sets[key]) > 1:
            continue
        seen.add(key)
        out.append(rec)
    return out
