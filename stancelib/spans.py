"""Source and cue spans of attributed statements: BIO tags on word pieces, decoded to character spans.

The document model's token head (``network.DocumentModel``) tags each word piece as part of
the *source* ("the Interior Ministry of Kazakhstan"), the *cue* ("announced") or neither, in
the same encoder pass that labels the sentences; ``decode`` turns a sentence's tag
probabilities into at most one source and one cue, as character spans of the sentence.
"""

from __future__ import annotations


import numpy as np

TAGS = ("O", "B-SOURCE", "I-SOURCE", "B-CUE", "I-CUE")
TAG2ID = {t: i for i, t in enumerate(TAGS)}


def token_tags(offsets, spans: dict) -> list[int]:
    """BIO tag ids for tokens with character ``offsets``; -100 for special tokens."""
    tags = []
    started = {"SOURCE": False, "CUE": False}
    for start, end in offsets:
        if start == end:
            tags.append(-100)
            continue
        tag = "O"
        for kind in ("SOURCE", "CUE"):
            span = spans.get(kind.lower())
            if span and start >= span["start"] and end <= span["end"]:
                tag = ("I-" if started[kind] else "B-") + kind
                started[kind] = True
                break
        tags.append(TAG2ID[tag])
    return tags


def decode(tag_probs: np.ndarray, offsets, text: str) -> dict:
    """Best-scoring contiguous run per kind -> ``{"source": span|None, "cue": span|None}``."""
    best = {"source": None, "cue": None}
    tags = tag_probs.argmax(-1)
    for kind in ("SOURCE", "CUE"):
        b, i = TAG2ID[f"B-{kind}"], TAG2ID[f"I-{kind}"]
        runs, current = [], None
        for k, ((start, end), tag) in enumerate(zip(offsets, tags)):
            if start == end:
                continue
            if tag == b or (tag == i and current is None):
                current = [k, k]
                runs.append(current)
            elif tag == i and current is not None:
                current[1] = k
            else:
                current = None
        if runs:
            score = lambda r: tag_probs[r[0] : r[1] + 1, [b, i]].sum(-1).mean()  # noqa: E731
            first, last = max(runs, key=score)
            start, end = int(offsets[first][0]), int(offsets[last][1])
            best[kind.lower()] = {"start": start, "end": end, "text": text[start:end]}
    return best


def span_scores(gold: list[dict | None], predicted: list[dict | None]) -> dict:
    """Exact and overlap precision/recall/F1 of one span kind (``None``: no span)."""
    n_gold = sum(g is not None for g in gold)
    n_pred = sum(p is not None for p in predicted)
    exact = sum(1 for g, p in zip(gold, predicted) if g and p and (g["start"], g["end"]) == (p["start"], p["end"]))
    overlap = sum(1 for g, p in zip(gold, predicted) if g and p and p["start"] < g["end"] and g["start"] < p["end"])

    def prf(tp):
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}

    return {"n_gold": n_gold, "n_predicted": n_pred, "exact": prf(exact), "overlap": prf(overlap)}


def evaluate_spans(clf, records: list[dict], found: list[dict] | None = None) -> dict:
    """Span scores on the attributed sentences of ``records`` (gold label, so spans are judged alone).

    Every record is read in its document (``clf.extract_spans``), as ``analyze`` reads it; pass
    ``found`` when a pass over the records has already produced them.
    """
    found = clf.extract_spans(records) if found is None else found
    pairs = [(r, f) for r, f in zip(records, found) if r["label"] == "attributed_statement"]
    return {kind: span_scores([r[kind] for r, _ in pairs], [f[kind] for _, f in pairs]) for kind in ("source", "cue")}
