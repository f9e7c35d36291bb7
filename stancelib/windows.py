"""Packing an article's sentences into windows for the document model (no torch here).

A window is one encoder input holding consecutive sentences of one document, each
opened by the classifier token and closed by the separator::

    [CLS] sentence 1 [SEP] [CLS] sentence 2 [SEP] ... [CLS] sentence k [SEP]

Each sentence is labelled from its own ``[CLS]`` marker (Cohan et al., EMNLP 2019), so
it sees its neighbours at about the cost of reading it once. A lone sentence is a window
of one, ``[CLS] sentence [SEP]``: exactly the input that ``BertForSequenceClassification``
and ``transformers.pipeline`` read.

Rules (tested in ``tests/test_windows.py``):

- a sentence keeps at most ``max_length`` tokens, its markers included (longer ones are cut
  at the end, as a lone string always was); a window holds at most ``window_tokens`` tokens
  and at least one sentence;
- for prediction, consecutive windows overlap: the next window starts at the first
  sentence that begins in the last ``overlap`` tokens of the current one, so every
  sentence near a window's edge appears again nearer the middle of the next;
- each sentence is labelled from the window where the **smaller of its left and right
  context** (in tokens) is largest; ties go to the window with more context in all, then
  to the earlier one;
- for training the windows do not overlap (every sentence is labelled once per epoch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .sentences import has_text


@dataclass
class Window:
    """One encoder input: sentences ``first .. first+len(lengths)-1`` of document ``doc``."""

    doc: int
    first: int
    input_ids: list[int]
    markers: list[int]  # position of each sentence's [CLS] in input_ids
    # per sentence: (start, end) token positions of its own word pieces (markers excluded)
    pieces: list[tuple[int, int]] = field(default_factory=list)

    @property
    def sentences(self) -> range:
        return range(self.first, self.first + len(self.markers))


@dataclass
class EncodedDocument:
    """A document's sentences as word-piece ids with character offsets (no special tokens)."""

    ids: list[list[int]]
    offsets: list[list[tuple[int, int]]]

    def lengths(self) -> list[int]:
        return [len(t) + 2 for t in self.ids]


def encode_documents(tokenizer, documents: list[list[str]], max_length: int) -> list[EncodedDocument]:
    """Tokenise every sentence once (one batched tokenizer call), cut to ``max_length - 2`` pieces."""
    flat = [s for doc in documents for s in doc]
    if not flat:
        return [EncodedDocument([], []) for _ in documents]
    enc = tokenizer(flat, add_special_tokens=False, truncation=True, max_length=max_length - 2,
                    return_offsets_mapping=True, return_attention_mask=False, return_token_type_ids=False)
    out, k = [], 0
    for doc in documents:
        n = len(doc)
        out.append(EncodedDocument([list(x) for x in enc["input_ids"][k:k + n]],
                                   [[tuple(o) for o in x] for x in enc["offset_mapping"][k:k + n]]))
        k += n
    return out


def spans_of(lengths: list[int], window_tokens: int, overlap: int = 0) -> list[tuple[int, int]]:
    """``(first, end)`` sentence ranges of the windows of one document (see the module rules)."""
    if overlap < 0 or overlap >= window_tokens:
        raise ValueError(f"overlap must lie in [0, window_tokens), got {overlap}")
    out, start, n = [], 0, len(lengths)
    while start < n:
        end, used = start, 0
        while end < n and (end == start or used + lengths[end] <= window_tokens):
            used += lengths[end]
            end += 1
        out.append((start, end))
        if end >= n:
            break
        nxt, pos = end, 0
        for j in range(start, end):
            if pos >= used - overlap:
                nxt = j
                break
            pos += lengths[j]
        start = max(nxt, start + 1)
    return out


def build_windows(docs: list[EncodedDocument], cls_id: int, sep_id: int, window_tokens: int,
                  overlap: int = 0) -> list[Window]:
    """All windows of all documents, in document order."""
    windows = []
    for d, doc in enumerate(docs):
        for first, end in spans_of(doc.lengths(), window_tokens, overlap):
            ids, markers, pieces = [], [], []
            for j in range(first, end):
                markers.append(len(ids))
                ids.append(cls_id)
                pieces.append((len(ids), len(ids) + len(doc.ids[j])))
                ids.extend(doc.ids[j])
                ids.append(sep_id)
            windows.append(Window(d, first, ids, markers, pieces))
    return windows


def best_windows(windows: list[Window]) -> dict[tuple[int, int], tuple[int, int]]:
    """``(doc, sentence) -> (window index, slot in window)``: where each sentence has most context."""
    best: dict[tuple[int, int], tuple[tuple[int, int], int, int]] = {}
    for w, win in enumerate(windows):
        total = len(win.input_ids)
        for slot, j in enumerate(win.sentences):
            before = win.markers[slot]
            after = total - (win.pieces[slot][1] + 1)
            score = (min(before, after), before + after)
            key = (win.doc, j)
            # strictly better only: on a tie the earlier window (seen first) stays
            if key not in best or score > best[key][0]:
                best[key] = (score, w, slot)
    return {key: (w, slot) for key, (_score, w, slot) in best.items()}


def pad_batch(windows: list[Window], pad_id: int) -> dict:
    """``input_ids`` / ``attention_mask`` / ``token_type_ids`` (int64 numpy) padded to the longest window."""
    import numpy as np

    width = max(len(w.input_ids) for w in windows)
    ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(windows), width), dtype=np.int64)
    for k, w in enumerate(windows):
        ids[k, : len(w.input_ids)] = w.input_ids
        mask[k, : len(w.input_ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def batches(windows: list[Window], max_windows: int, max_tokens: int) -> list[list[int]]:
    """Window indices in length-sorted batches of at most ``max_windows`` windows and
    ``max_tokens`` padded tokens (padding stays small: neighbours in a batch are of like length)."""
    order = sorted(range(len(windows)), key=lambda k: len(windows[k].input_ids))
    out, current = [], []
    for k in order:
        width = len(windows[k].input_ids)  # the longest so far, since the order is sorted
        if current and (len(current) >= max_windows or (len(current) + 1) * width > max_tokens):
            out.append(current)
            current = []
        current.append(k)
    if current:
        out.append(current)
    return out


def documents_from_records(records: list[dict]) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """Group sentence records into documents: ``(documents, where)`` with ``where[r] = (doc, sentence)``.

    Records with the same ``doc`` and an ``i`` form one document in ``i`` order. A record may carry
    the whole article (``article``: its sentences, ``i`` indexing them): those fill the sentences
    that are no records (the real-news adapters skip some), so the model reads the real
    neighbours. Records without ``doc``/``i`` (minimal pairs, sentence-level corpora) are
    documents of one.
    """
    texts: dict[object, dict[int, str]] = {}
    for rec in records:
        doc, i = rec.get("doc"), rec.get("i")
        if doc is None or i is None:
            continue
        known = texts.setdefault(doc, {})
        if rec.get("article") is not None and len(known) < len(rec["article"]):
            for j, s in enumerate(rec["article"]):
                known.setdefault(j, s)
    for rec in records:  # a record's own text wins over a copy from a neighbour's context
        doc, i = rec.get("doc"), rec.get("i")
        if doc is not None and i is not None:
            texts[doc][i] = rec["text"]
    documents: list[list[str]] = []
    index: dict[object, tuple[int, dict[int, int]]] = {}
    for doc, sentences in texts.items():
        order = sorted(j for j, s in sentences.items() if s and has_text(s))
        index[doc] = (len(documents), {j: k for k, j in enumerate(order)})
        documents.append([sentences[j] for j in order])
    where = []
    for rec in records:
        doc, i = rec.get("doc"), rec.get("i")
        if doc is not None and i is not None and i in index[doc][1]:
            d, pos = index[doc]
            where.append((d, pos[i]))
        else:
            where.append((len(documents), 0))
            documents.append([rec["text"]])
    return documents, where
