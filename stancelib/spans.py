"""Source and cue spans of attributed statements: a token-classification head.

``SpanTagger`` tags each word piece of a sentence as part of the *source* ("the
Interior Ministry of Kazakhstan"), the *cue* ("announced") or neither (BIO
tags), and returns at most one source and one cue per sentence as character
spans. It is trained beside the sentence classifier on the corpus spans and
saved inside the classifier's folder (``spans/``), so the main folder stays a
plain sequence-classification model that ``transformers.pipeline`` loads.
"""

from __future__ import annotations


import numpy as np

TAGS = ("O", "B-SOURCE", "I-SOURCE", "B-CUE", "I-CUE")
TAG2ID = {t: i for i, t in enumerate(TAGS)}
SPAN_DIR = "spans"


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


class SpanTagger:
    """Finds the source and cue of attributed sentences."""

    def __init__(self, model, tokenizer, max_length: int = 96, batch_size: int = 64):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size

    @classmethod
    def from_pretrained(cls, path: str) -> "SpanTagger":
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        model = AutoModelForTokenClassification.from_pretrained(
            path, use_safetensors=True, local_files_only=True, trust_remote_code=False)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
        return cls(model, tokenizer)

    def save_pretrained(self, path: str) -> None:
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)

    def extract(self, texts: list[str]) -> list[dict]:
        """For each text: ``{"source": span or None, "cue": span or None}`` (offsets into the text)."""
        import torch

        out = []
        for k in range(0, len(texts), self.batch_size):
            chunk = texts[k : k + self.batch_size]
            enc = self.tokenizer(chunk, padding=True, truncation=True, max_length=self.max_length,
                                 return_offsets_mapping=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping").tolist()
            with torch.inference_mode():
                probs = self.model(**enc).logits.softmax(-1).numpy()
            mask = enc["attention_mask"].numpy()
            for text, p, off, m in zip(chunk, probs, offsets, mask):
                n = int(m.sum())
                out.append(decode(p[:n], off[:n], text))
        return out


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


def evaluate_spans(tagger: SpanTagger, records: list[dict]) -> dict:
    """Span scores on the attributed sentences of ``records`` (gold label, so spans are judged alone)."""
    attributed = [r for r in records if r["label"] == "attributed_statement"]
    found = tagger.extract([r["text"] for r in attributed])
    return {kind: span_scores([r[kind] for r in attributed], [f[kind] for f in found]) for kind in ("source", "cue")}


def load_span_backbone(args):
    """A fresh token-classification model and tokenizer from ``args.backbone``."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from .backbones import resolve_backbone

    path, local = resolve_backbone(args.backbone)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
    model = AutoModelForTokenClassification.from_pretrained(
        path, num_labels=len(TAGS), id2label=dict(enumerate(TAGS)), label2id=TAG2ID,
        local_files_only=local, use_safetensors=True, trust_remote_code=False)
    return model, tokenizer


def train_span_tagger(records: list[dict], args, output_dir: str, model, tokenizer) -> SpanTagger:
    """Fine-tune a token-classification head on the attributed sentences of ``records``."""
    import transformers
    from transformers import DataCollatorForTokenClassification

    from .data import to_dataset

    def encode(recs):
        recs = [r for r in recs if r["label"] == "attributed_statement"]
        ds = to_dataset(recs)

        def tokenize(batch):
            enc = tokenizer(batch["text"], truncation=True, max_length=args.max_length, return_offsets_mapping=True)
            enc["labels"] = [token_tags(off, {"source": s, "cue": c})
                             for off, s, c in zip(enc.pop("offset_mapping"), batch["source"], batch["cue"])]
            return enc

        return ds.map(tokenize, batched=True, remove_columns=ds.column_names)

    hf_args = transformers.TrainingArguments(
        output_dir=output_dir, learning_rate=args.learning_rate, num_train_epochs=args.span_epochs,
        per_device_train_batch_size=args.per_device_train_batch_size, weight_decay=args.weight_decay,
        warmup_steps=args.warmup_ratio, eval_strategy="no", save_strategy="no", seed=args.seed,
        data_seed=args.seed, use_cpu=args.use_cpu, report_to=[], logging_steps=args.logging_steps,
        dataloader_num_workers=0,
    )
    trainer = transformers.Trainer(model=model, args=hf_args, train_dataset=encode(records),
                                   processing_class=tokenizer, data_collator=DataCollatorForTokenClassification(tokenizer))
    trainer.train()
    return SpanTagger(trainer.model.cpu(), tokenizer, max_length=args.max_length)
