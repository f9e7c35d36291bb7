"""The project's own three-way annotation of real news, stored as references only.

``data/real_news/references.jsonl`` holds, for each annotated sentence of the trainable
splits, a locator and the labels this project gave it under ``LABELS.md``, never the text
(the corpora's licences forbid shipping it)::

    {"id": "polnear/train/<article>@120-245", "part": "train", "hash": "3f2a9c0d1b7e",
     "label": "attributed_statement", "source": [0, 18], "cue": [19, 23], "kind": null}

Locators, one per corpus (the ``id`` says everything needed to find the text again):

- ``polnear/<split>/<article>@<start>-<end>``: characters ``start:end`` of
  ``polnear/data/<split>/text/<article>.txt`` (a sentence of :func:`split_sentences`); in the
  committed references ``<article>`` is :func:`article_key` of the file name (12 hex digits), never
  the name itself, because PolNeAR file names open with the first words of the headline
  (:func:`public_id` turns one form into the other; the resolver reads both);
- ``checkthat/<split>/<sentence_id>``: the row of ``<split>_en.tsv`` with that id;
- ``newssd/<file>/<row>``: the ``row``-th data row (1-based) of ``newssd-eng/data/english/<file>.csv``;
- ``babe/SG2/<row>``: the ``row``-th data row (1-based) of ``babe/data/final_labels_SG2.csv``.

Row texts are whitespace-collapsed as the adapters do; ``hash`` is the first 12 hex digits of the
SHA-256 of the exact text, so a changed or different copy of a corpus is caught by name
(:class:`ReferenceError`) instead of silently training on other sentences. ``source`` and ``cue``
are character offsets into the sentence; ``part`` is ``train`` or ``dev`` (the real-news dev part,
the instrument for model decisions); ``kind`` names the claim kind or neutral genre when the
annotator gave one.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re

from ..data import DataError, _read_jsonl, validate_record
from ..sentences import split_sentences
from .common import _norm, _need, data_root, text_key

REFERENCES_FILE = os.path.join(os.path.dirname(__file__), "..", "..", "data", "real_news", "references.jsonl")
PARTS = ("train", "dev")
_ARTICLE_KEY = re.compile(r"[0-9a-f]{12}")


class ReferenceError(DataError):
    """A reference cannot be materialised: its file is missing or its text no longer matches."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def article_key(name: str) -> str:
    """How a committed PolNeAR locator names an article: a digest of its file name (no headline words)."""
    return text_hash(name)


def public_id(ref_id: str) -> str:
    """The locator as committed: a PolNeAR article named by :func:`article_key`; other ids unchanged."""
    corpus, _, rest = ref_id.partition("/")
    split, _, tail = rest.partition("/")
    doc, _, offsets = tail.rpartition("@")
    if corpus != "polnear" or _ARTICLE_KEY.fullmatch(doc):
        return ref_id
    return f"polnear/{split}/{article_key(doc)}@{offsets}"


# --------------------------------------------------------------------------- reading the corpora

def _polnear_article_spans(text: str) -> list[tuple[int, int]]:
    # the adapter's rule: a span with no letter ("___", "3.") is not a sentence
    return [(s, e) for s, e in split_sentences(text) if any(ch.isalpha() for ch in text[s:e])]


def _rows(path: str, delimiter: str):
    with open(path, encoding="utf-8-sig", newline="") as f:
        yield from enumerate(csv.DictReader(f, delimiter=delimiter), 1)


def _paths(root: str | None) -> dict[str, str]:
    base = data_root(root)
    return {
        "polnear": os.path.join(base, "polnear", "data"),
        "checkthat": os.path.join(base, "checkthat2025-subjectivity-en", "task1", "data", "english"),
        "newssd": os.path.join(base, "newssd-eng", "data", "english"),
        "babe": os.path.join(base, "babe", "data"),
    }


def iter_locatable(root: str | None = None) -> dict[str, list[dict]]:
    """Every sentence of the trainable splits with its locator id (for choosing what to annotate).

    Held-out splits are never read: PolNeAR ``test``, CheckThat! ``dev_test`` only as text keys
    (so that NewsSD rows equal to one of them can be left out), BABE Reuters rows are kept here
    with their ``outlet`` and filtered by the caller.
    """
    p = _paths(root)
    out: dict[str, list[dict]] = {"polnear": [], "checkthat": [], "newssd": [], "babe": []}
    for split in ("train", "dev"):
        folder = _need(os.path.join(p["polnear"], split, "text"))
        for fn in sorted(os.listdir(folder)):
            if not fn.endswith(".txt"):
                continue
            doc = fn[:-4]
            with open(os.path.join(folder, fn), encoding="utf-8", newline="") as f:
                text = f.read()
            for s, e in _polnear_article_spans(text):
                out["polnear"].append({"id": f"polnear/{split}/{doc}@{s}-{e}", "corpus": "polnear", "split": split,
                                       "doc": doc, "start": s, "end": e, "text": text[s:e], "doc_chars": len(text),
                                       "key": text_key(text[s:e])})
    for split in ("train", "dev", "dev_test"):
        for _, row in _rows(_need(os.path.join(p["checkthat"], f"{split}_en.tsv")), "\t"):
            text = _norm(row["sentence"] or "")
            item = {"id": f"checkthat/{split}/{row['sentence_id']}", "corpus": "checkthat", "split": split,
                    "doc": row["sentence_id"], "text": text, "key": text_key(text)}
            out["checkthat"].append(item if split != "dev_test" else {"split": split, "key": item["key"]})
    for name in ("train", "val", "test"):
        for n, row in _rows(_need(os.path.join(p["newssd"], f"{name}.csv")), ","):
            text = _norm(row["Sentence"] or "")
            out["newssd"].append({"id": f"newssd/{name}/{n}", "corpus": "newssd", "split": name,
                                  "doc": f"newssd/{name}/{n}", "text": text, "key": text_key(text)})
    for n, row in _rows(_need(os.path.join(p["babe"], "final_labels_SG2.csv")), ";"):
        text = _norm(row["text"] or "")
        out["babe"].append({"id": f"babe/SG2/{n}", "corpus": "babe", "split": "SG2",
                            "doc": (row.get("news_link") or "").strip() or f"babe/SG2/{n}",
                            "outlet": _norm(row.get("outlet") or ""), "text": text, "key": text_key(text)})
    return out


class _Resolver:
    """Finds the text of a locator id, reading each corpus file once."""

    def __init__(self, root: str | None):
        self.p = _paths(root)
        self._articles: dict[tuple[str, str], str] = {}
        self._tables: dict[str, dict[str, str]] = {}
        self._names: dict[str, dict[str, str]] = {}

    def article_name(self, split: str, doc: str) -> str:
        """The file name of a PolNeAR article named by its file name or by :func:`article_key`."""
        if not _ARTICLE_KEY.fullmatch(doc):
            return doc
        folder = os.path.join(self.p["polnear"], split, "text")
        if split not in self._names:
            names = [fn[:-4] for fn in os.listdir(folder) if fn.endswith(".txt")] if os.path.isdir(folder) else []
            self._names[split] = {article_key(n): n for n in names}
        if doc not in self._names[split]:
            raise ReferenceError(f"PolNeAR article with key {doc} not found in {folder}")
        return self._names[split][doc]

    def article(self, split: str, doc: str) -> str:
        doc = self.article_name(split, doc)
        key = (split, doc)
        if key not in self._articles:
            path = os.path.join(self.p["polnear"], split, "text", f"{doc}.txt")
            if not os.path.isfile(path):
                raise ReferenceError(f"PolNeAR article not found: {path}")
            with open(path, encoding="utf-8", newline="") as f:
                self._articles[key] = f.read()
        return self._articles[key]

    def _table(self, path: str, delimiter: str, id_column: str | None, text_column: str) -> dict[str, str]:
        key = f"{path}#{text_column}"
        if key not in self._tables:
            if not os.path.isfile(path):
                raise ReferenceError(f"corpus file not found: {path}")
            self._tables[key] = {(row[id_column] if id_column else str(n)): _norm(row.get(text_column) or "")
                                 for n, row in _rows(path, delimiter)}
        return self._tables[key]

    def text(self, ref_id: str) -> tuple[str, dict]:
        """``(text, extra)`` for a locator; ``extra`` has the PolNeAR article context."""
        corpus, _, rest = ref_id.partition("/")
        split, _, tail = rest.partition("/")
        if corpus == "polnear":
            if split not in ("train", "dev"):
                raise ReferenceError(f"{ref_id}: only PolNeAR train and dev may be referenced (test is held out)")
            doc, _, offsets = tail.rpartition("@")
            try:
                start, end = (int(x) for x in offsets.split("-"))
            except ValueError:
                raise ReferenceError(f"{ref_id}: the offsets after '@' must read START-END") from None
            doc = self.article_name(split, doc)
            return self.article(split, doc)[start:end], {"doc": doc, "start": start, "end": end, "split": split}
        if corpus == "checkthat":
            if split == "dev_test":
                raise ReferenceError(f"{ref_id}: CheckThat! dev_test is held out and never referenced")
            table = self._table(os.path.join(self.p["checkthat"], f"{split}_en.tsv"), "\t", "sentence_id", "sentence")
        elif corpus == "newssd":
            table = self._table(os.path.join(self.p["newssd"], f"{split}.csv"), ",", None, "Sentence")
        elif corpus == "babe":
            if split != "SG2":
                raise ReferenceError(f"{ref_id}: only BABE SG2 rows are referenced")
            path = os.path.join(self.p["babe"], "final_labels_SG2.csv")
            table = self._table(path, ";", None, "text")
            if self._table(path, ";", None, "outlet").get(tail, "").lower() == "reuters":
                raise ReferenceError(f"{ref_id}: BABE Reuters rows are held out and never referenced")
        else:
            raise ReferenceError(f"{ref_id}: unknown corpus {corpus!r}")
        if tail not in table:
            raise ReferenceError(f"{ref_id}: no such row in the {corpus} files under {self.p[corpus]}")
        return table[tail], {"doc": ref_id}


# --------------------------------------------------------------------------- materialising

def read_references(path: str = REFERENCES_FILE) -> list[dict]:
    """The reference rows (no text), checked for shape; errors name ``file:line``."""
    rows = []
    for where, row in _read_jsonl(path):  # the one JSONL reader: blank lines skipped, bad JSON named
        if not isinstance(row, dict):
            raise DataError(f"{where}: a reference is a JSON object, got {type(row).__name__}")
        missing = [k for k in ("id", "part", "hash", "label") if k not in row]
        if missing:
            raise DataError(f"{where}: reference lacks {', '.join(missing)}")
        if row["part"] not in PARTS:
            raise DataError(f"{where}: part must be one of {PARTS}, got {row['part']!r}")
        rows.append(row | {"_where": where})
    return rows


def load_real_news(part: str | None = None, root: str | None = None, path: str = REFERENCES_FILE) -> list[dict]:
    """Materialise the annotated real-news sentences from the corpora folder.

    ``part`` is ``"train"``, ``"dev"`` or ``None`` (both). Each record is a canonical
    stancelib record (definite ``label``, ``source``/``cue`` spans) plus ``corpus``, ``part``,
    ``ref`` (the locator id), ``doc``/``i`` and, for PolNeAR, the article's sentences
    (``article``), so that the document model reads real context. A missing file or a text whose
    hash differs raises :class:`ReferenceError` naming the reference.
    """
    if part is not None and part not in PARTS:
        raise ValueError(f"part must be one of {PARTS} or None, got {part!r}")
    resolver = _Resolver(root)
    refs = [r for r in read_references(path) if part is None or r["part"] == part]
    out = []
    for ref in refs:
        try:
            text, extra = resolver.text(ref["id"])
        except ReferenceError as e:  # a missing file names its path: say which reference needed it
            msg = str(e) if str(e).startswith(ref["id"]) else f"{ref['id']}: {e}"
            raise ReferenceError(f"{ref['_where']}: {msg}") from None
        if text_hash(text) != ref["hash"]:
            raise ReferenceError(f"{ref['_where']}: {ref['id']}: the text in the corpora folder does not match "
                                 f"the annotated one (hash {text_hash(text)} != {ref['hash']}); "
                                 "is this the same release of the corpus?")
        raw = {"text": text, "label": ref["label"], "doc": extra["doc"]}
        for key in ("source", "cue"):
            if ref.get(key):
                raw[key] = {"start": ref[key][0], "end": ref[key][1]}
        rec = validate_record(raw, ref["_where"])
        rec.update(corpus=ref["id"].split("/", 1)[0], part=ref["part"], ref=ref["id"], kind=ref.get("kind"),
                   _where=ref["_where"])
        if "start" in extra:
            rec.update(start=extra["start"], end=extra["end"], _split=extra["split"])
        out.append(rec)
    _number_articles(out, resolver)
    return out


def _number_articles(records: list[dict], resolver: _Resolver) -> None:
    """Give PolNeAR records their sentence index ``i`` and the article's sentences (``article``).

    ``i`` counts every span of :func:`split_sentences`, as the PolNeAR adapter's ``i`` does, so a
    reference and an adapter record of the same sentence name the same position.
    """
    cache: dict[tuple[str, str], tuple[list[int], list[str]]] = {}
    for rec in records:
        if "_split" not in rec:  # not PolNeAR (validate_record gives every record a "start", None here)
            continue
        key = (rec["_split"], rec["doc"])
        if key not in cache:
            text = resolver.article(*key)
            spans = split_sentences(text)
            cache[key] = ([s for s, _ in spans], [text[s:e] for s, e in spans])
        starts, sentences = cache[key]
        if rec["start"] not in starts:
            raise ReferenceError(f"{rec['_where']}: {rec['ref']}: offset {rec['start']} does not open a sentence "
                                 "of the article as stancelib splits it")
        rec["i"] = starts.index(rec["start"])
        rec["article"] = sentences
