"""Fine-tune the document model: sentence labels and source/cue tags, trained jointly on windows.

``train(args)`` runs small steps, each its own function:

1. ``load_training_data``: the records (bundled corpus, supplements, minimal pairs, real news),
   checked for cross-split leaks;
2. ``window_examples``: articles packed into windows (``windows.py``), each sentence a marker
   with its label set, weight and the BIO tags of its source and cue; some sentences are also
   read alone (``lone_sentence_rate``) so that ``predict`` of a lone string stays served;
3. ``fit``: ``transformers.Trainer`` with the partial-label loss, early stopping on dev macro-F1;
4. ``score_and_calibrate``: dev scores, temperature scaling, real-news dev scores;
5. the model folder, written atomically, with its metadata and model card.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import platform
import shutil

import numpy as np

from . import __version__
from .backbones import resolve_backbone
from .calibration import expected_calibration_error, fit_temperature
from .data import check_disjoint, file_sha256, load_minimal_pairs, read_records
from .evaluation import classification_scores, minimal_pair_scores
from .labels import ID2LABEL, LABEL2ID, LABELS
from .model_card import render_model_card, write_model_card_copy
from .modeling import StanceClassifier
from .spans import evaluate_spans, token_tags
from .training_args import TrainingArguments
from .windows import build_windows, documents_from_records, encode_documents


def sample_real_news(records: list[dict], limit: int | dict | None, seed: int) -> list[dict]:
    """The real-news records to train on: whole articles where the records carry ``doc``/``i``, else the
    same share from each (corpus label, allowed set) stratum.

    ``limit`` is ``None`` (all of them), a number (at most that many in all) or a
    mapping from corpus name to a number (at most that many from that corpus; a
    corpus not named is used whole), e.g. ``{"polnear": 4000}``: PolNeAR alone is
    ten times the size of the sentence-level corpora that carry opinion labels.
    """
    if isinstance(limit, dict):
        unknown = sorted(set(limit) - {r.get("corpus") for r in records})
        if unknown:
            raise ValueError(f"real_news_max names corpora with no records: {', '.join(unknown)}")
        out = []
        for corpus in dict.fromkeys(r.get("corpus") for r in records):  # first-seen order, deterministic
            group = [r for r in records if r.get("corpus") == corpus]
            out += sample_real_news(group, limit.get(corpus), seed)
        return out
    if limit is None or len(records) <= limit:
        return records
    import random

    if all(r.get("doc") is not None and r.get("i") is not None for r in records):
        # records of whole articles (PolNeAR): draw articles, so the document model reads
        # articles whose sentences are records, not thousands of context-only sentences
        docs = sorted({r["doc"] for r in records})
        random.Random(seed).shuffle(docs)
        keep, n = set(), 0
        by_doc: dict[str, int] = {}
        for r in records:
            by_doc[r["doc"]] = by_doc.get(r["doc"], 0) + 1
        for d in docs:
            if n >= limit:
                break
            keep.add(d)
            n += by_doc[d]
        return [r for r in records if r["doc"] in keep]
    strata: dict[tuple, list[dict]] = {}
    for rec in records:
        strata.setdefault((rec["gold"], tuple(rec["allowed"])), []).append(rec)
    rng = random.Random(seed)
    out = []
    for key in sorted(strata):
        group = strata[key]
        out += rng.sample(group, max(1, round(len(group) * limit / len(records))))
    return out


def real_news_weight(setting: float | dict, corpus: str | None) -> float:
    """The weight of a real-news example: one number for all, or per corpus (``default`` for the rest, else 1)."""
    if isinstance(setting, dict):
        return float(setting.get(corpus, setting.get("default", 1.0)))
    return float(setting)


# ---- 1. data ------------------------------------------------------------------------------

def load_training_data(args: TrainingArguments) -> dict[str, list[dict]]:
    """Train and dev records (minimal pairs of each split folded in, each pair member alone),
    plus the real-news dev part when the recipe reads real news; checked for cross-split leaks."""
    from .corpora.common import text_key

    # a pair member is its own window: no ``i`` (its ``doc`` stays the group, for the pair scores)
    alone = lambda r: r | {"i": None, "_pair": True}  # noqa: E731
    splits = {"train": [r for path in (args.train_file, *args.extra_train_files) for r in read_records(path)],
              "dev": read_records(args.dev_file)}
    if args.pairs_file:
        splits["train"] += [alone(r) for r in load_minimal_pairs(args.pairs_file, "train")]
        splits["dev_pairs"] = [alone(r) for r in load_minimal_pairs(args.pairs_file, "dev")]
    if args.real_news_references:
        from .corpora import load_real_news

        splits["train"] += [r | {"_real_news": True, "_reference": True}
                            for r in load_real_news("train", args.real_news_dir)]
    dev_part = load_real_news_dev_part(args)
    if dev_part:
        splits["real_news_dev"] = dev_part
    if args.real_news:
        from .corpora import trainable_records

        # the real-news dev part must not come back as a partial label (BABE, PolNeAR train overlap)
        dev_keys = {text_key(r["text"]) for r in splits.get("real_news_dev", [])}
        real = [r for r in trainable_records(args.real_news_dir, keep_dev_out=args.real_news_dev)
                if text_key(r["text"]) not in dev_keys]
        splits["train"] += [rec | {"_real_news": True}
                            for rec in sample_real_news(real, args.real_news_max, args.seed)]
    held_out = {}
    if args.test_file:
        held_out["test"] = read_records(args.test_file)
        if args.pairs_file:
            held_out["test_pairs"] = load_minimal_pairs(args.pairs_file, "test")
    # the test sets take part in the leak check only; nothing else reads them here
    check_disjoint({"train": [r for r in splits["train"] if not r.get("_real_news")],
                    "dev": splits["dev"] + splits.get("dev_pairs", []),
                    "test": held_out.get("test", []) + held_out.get("test_pairs", [])})
    return splits


def load_real_news_dev_part(args: TrainingArguments) -> list[dict]:
    """The real-news dev part (the model-decision instrument), or ``[]`` where it cannot be had.

    ``real_news_dev_part: None`` (the default) scores it when the corpora are there and silently
    does without them (a machine without ../shared/data still runs ``make demo``); ``true``
    requires it, as does a recipe that trains on the references; ``false`` never reads it.
    """
    from .corpora import ReferenceError, load_real_news

    wanted = args.real_news_dev_part
    if wanted is False and not args.real_news_references:
        return []
    try:
        return load_real_news("dev", args.real_news_dir)
    except (FileNotFoundError, ReferenceError) as e:
        if wanted or args.real_news_references:
            raise
        print(f"note: the real-news dev part is not scored ({e})")
        return []


def class_weights(args: TrainingArguments, labels: list[str]) -> list[float] | None:
    if args.class_weights == "none":
        return None
    if isinstance(args.class_weights, list):
        return [float(w) for w in args.class_weights]
    return balanced_weights(labels)


def balanced_weights(labels: list[str], what: str = "the training data") -> list[float]:
    """Inverse class frequency, in LABELS order (each label's sentences weigh the same in all)."""
    counts = np.array([labels.count(name) for name in LABELS], dtype=float)
    if (counts == 0).any():
        missing = [n for n, c in zip(LABELS, counts) if c == 0]
        raise ValueError(f"no sentence labelled {', '.join(missing)} in {what}")
    return (counts.sum() / (len(LABELS) * counts)).tolist()


def example_weights(args: TrainingArguments, records: list[dict]):
    """``(class weights, weight_of)``: the class weights (LABELS order, or None) and each training
    record's loss weight.

    Class weights come from the definite labels of the bundled corpus and of the real-news
    references, which the partial labels must not drown. With ``real_news_references_balanced``
    a reference weighs by the inverse class frequency within its own corpus instead.
    """
    weights = class_weights(args, [r["label"] for r in records
                                   if r["label"] and (not r.get("_real_news") or r.get("_reference"))])
    per_corpus = {}
    if args.real_news_references_balanced:
        for corpus in {r.get("corpus") for r in records if r.get("_reference")}:
            per_corpus[corpus] = balanced_weights(
                [r["label"] for r in records if r.get("_reference") and r.get("corpus") == corpus],
                what=f"the {corpus} references (real_news_references_balanced needs every label in each corpus)")

    def weight_of(rec):
        if rec.get("_reference"):  # definite labels: their corpus's class weights, else everyone's
            table = per_corpus.get(rec.get("corpus")) or weights
            return (table[LABEL2ID[rec["label"]]] if table else 1.0) * args.real_news_references_weight
        w = (weights[LABEL2ID[rec["label"]]] if weights else 1.0) if rec["label"] else args.partial_label_weight
        return w * (real_news_weight(args.real_news_weight, rec.get("corpus")) if rec.get("_real_news") else 1.0)

    return weights, weight_of


# ---- 2. windows ---------------------------------------------------------------------------

def _tags_for(rec: dict, offsets) -> list[int]:
    """BIO tag ids of a sentence's word pieces; all -100 where its spans are unknown."""
    unknown = [-100] * len(offsets)
    if rec is None or not rec["label"]:
        return unknown  # a partial label says nothing about spans
    if rec["label"] != "attributed_statement":
        return token_tags(offsets, {})  # no source or cue in a neutral report or a claim
    if rec.get("source") or rec.get("cue"):
        return token_tags(offsets, {"source": rec.get("source"), "cue": rec.get("cue")})
    # an attributed sentence with neither span: a quote continuation has none (rule 12); for
    # others (a real-news sentence whose spans reach outside it) the tags are unknown
    continuation = "rule 12" in (rec.get("hard") or "") or rec.get("kind") == "quote_continuation"
    return token_tags(offsets, {}) if continuation else unknown


def window_examples(records: list[dict], tokenizer, args: TrainingArguments, weight_of, lone_rate: float = 0.0,
                    seed: int = 0) -> list[dict]:
    """Training examples: one per window, holding every sentence of the window as a marker.

    A sentence with no record (a neighbour that is context only) has weight 0. With
    ``lone_rate``, that share of the sentences of multi-sentence documents is also a window of
    one (never a rule-12 continuation, whose label comes from its neighbours).
    """
    documents, where = documents_from_records(records)
    target: dict[tuple[int, int], dict] = {}
    for rec, key in zip(records, where):  # a definite label wins over a partial one for the same sentence
        if key not in target or (rec["label"] and not target[key]["label"]):
            target[key] = rec
    encoded = encode_documents(tokenizer, documents, args.max_length)
    windows = build_windows(encoded, tokenizer.cls_token_id, tokenizer.sep_token_id, args.window_tokens)
    rng = np.random.default_rng(seed)
    lone = []
    for key, rec in target.items():
        if len(documents[key[0]]) > 1 and rng.random() < lone_rate and "rule 12" not in (rec.get("hard") or ""):
            lone.append(key)
    examples = []

    def example(win_ids, slots):
        ex = {"input_ids": win_ids, "sent_pos": [], "sent_label": [], "sent_mask": [], "sent_weight": [],
              "tags": [-100] * len(win_ids)}
        for pos, (a, b), (d, j) in slots:
            rec = target.get((d, j))
            ex["sent_pos"].append(pos)
            ex["sent_label"].append(LABEL2ID[rec["label"]] if rec and rec["label"] else -100)
            ex["sent_mask"].append([float(n in rec["allowed"]) for n in LABELS] if rec else [1.0] * len(LABELS))
            ex["sent_weight"].append(weight_of(rec) if rec else 0.0)
            ex["tags"][a:b] = _tags_for(rec, encoded[d].offsets[j])
        return ex

    for win in windows:
        if not any((win.doc, j) in target for j in win.sentences):
            continue  # context only: nothing to learn from this window
        examples.append(example(win.input_ids, [(win.markers[s], win.pieces[s], (win.doc, j))
                                                for s, j in enumerate(win.sentences)]))
    for d, j in lone:
        ids = [tokenizer.cls_token_id, *encoded[d].ids[j], tokenizer.sep_token_id]
        examples.append(example(ids, [(0, (1, len(ids) - 1), (d, j))]))
    return examples


class WindowCollator:
    """Pads window examples: tokens with the pad id, markers with weight 0 and label -100."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, examples: list[dict]) -> dict:
        import torch

        width = max(len(e["input_ids"]) for e in examples)
        slots = max(len(e["sent_pos"]) for e in examples)
        n = len(examples)
        batch = {
            "input_ids": torch.full((n, width), self.pad_id, dtype=torch.long),
            "attention_mask": torch.zeros((n, width), dtype=torch.long),
            "tags": torch.full((n, width), -100, dtype=torch.long),
            "sent_pos": torch.zeros((n, slots), dtype=torch.long),
            "sent_label": torch.full((n, slots), -100, dtype=torch.long),
            "sent_mask": torch.ones((n, slots, len(LABELS)), dtype=torch.bool),
            "sent_weight": torch.zeros((n, slots), dtype=torch.float32),
        }
        for k, e in enumerate(examples):
            t, s = len(e["input_ids"]), len(e["sent_pos"])
            batch["input_ids"][k, :t] = torch.tensor(e["input_ids"])
            batch["attention_mask"][k, :t] = 1
            batch["tags"][k, :t] = torch.tensor(e["tags"])
            batch["sent_pos"][k, :s] = torch.tensor(e["sent_pos"])
            batch["sent_label"][k, :s] = torch.tensor(e["sent_label"])
            batch["sent_mask"][k, :s] = torch.tensor(e["sent_mask"]) > 0
            batch["sent_weight"][k, :s] = torch.tensor(e["sent_weight"])
        return batch


# ---- 3. fit -------------------------------------------------------------------------------

def _make_trainer_class(span_loss_weight: float):
    import torch
    from transformers import Trainer

    def marker_logits(model, inputs):
        logits, tags = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        pos = inputs["sent_pos"].unsqueeze(-1).expand(-1, -1, logits.size(-1))
        return logits.gather(1, pos).float(), tags.float()

    class WindowTrainer(Trainer):
        """Loss = weighted -log P(label in allowed set) per sentence marker + tag cross-entropy.

        For a definite label the first term is ordinary cross-entropy; for a partial label
        ("neutral or attributed") it only asks the model to put its mass on the allowed labels.
        Each marker carries a weight (its class weight, ``partial_label_weight``, the real-news
        weight; 0 for context-only sentences and padding), so the clean three-way examples are
        not drowned by the partial ones (FINDINGS.md).
        """

        def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
            logits, tags = marker_logits(model, inputs)
            mask, weight = inputs["sent_mask"], inputs["sent_weight"]
            per = torch.logsumexp(logits, -1) - torch.logsumexp(logits.masked_fill(~mask, float("-inf")), -1)
            per = torch.where(weight > 0, per, torch.zeros_like(per))
            denom = weight.sum()
            if self.accelerator.num_processes > 1:
                # under DDP the gradients are averaged over ranks: normalise by the global mean weight sum
                denom = self.accelerator.reduce(denom.detach(), reduction="sum") / self.accelerator.num_processes
            loss = (per * weight).sum() / denom.clamp_min(1e-8)
            if span_loss_weight and model_has_span_head(model):
                tag_loss = torch.nn.functional.cross_entropy(tags.reshape(-1, tags.size(-1)), inputs["tags"].reshape(-1),
                                                             ignore_index=-100, reduction="sum")
                loss = loss + span_loss_weight * tag_loss / (inputs["tags"] >= 0).sum().clamp_min(1)
            return (loss, (logits, tags)) if return_outputs else loss

        def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
            inputs = self._prepare_inputs(inputs)
            with torch.no_grad():
                loss = self.compute_loss(model, inputs)
                logits, _ = marker_logits(model, inputs)
            return loss.detach(), logits.detach(), inputs["sent_label"]

    return WindowTrainer


def model_has_span_head(model) -> bool:
    inner = getattr(model, "module", model)  # DDP wraps the model
    return getattr(inner, "span_head", None) is not None


def _compute_metrics(eval_pred) -> dict:
    logits, label_ids = eval_pred
    logits = np.asarray(logits).reshape(-1, len(LABELS))
    label_ids = np.asarray(label_ids).reshape(-1)
    keep = label_ids >= 0  # partial labels, context-only sentences and padding take no part
    preds = logits.argmax(axis=-1)[keep]
    scores = classification_scores([LABELS[k] for k in label_ids[keep]], [LABELS[k] for k in preds])
    out = {"macro_f1": scores["macro_f1"], "accuracy": scores["accuracy"]}
    out.update({f"f1_{name}": scores["per_class"][name]["f1"] for name in LABELS})
    return out


def fit(model, tokenizer, train_examples: list[dict], dev_examples: list[dict], args: TrainingArguments,
        resume: bool = False):
    """Run ``transformers.Trainer``; return it (its model holds the best checkpoint's weights)."""
    import transformers
    from datasets import Dataset

    checkpoint_dir = os.path.join(args.output_dir, "checkpoints")
    hf_args = transformers.TrainingArguments(
        output_dir=checkpoint_dir,
        learning_rate=args.learning_rate,
        num_train_epochs=args.num_train_epochs,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.per_device_train_batch_size,
        per_device_eval_batch_size=args.per_device_eval_batch_size,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup_ratio,  # a float below 1 is a ratio of all steps in transformers 5
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        logging_steps=args.logging_steps,
        seed=args.seed,
        data_seed=args.seed,
        use_cpu=args.use_cpu,
        report_to=[],
        dataloader_num_workers=0,
        remove_unused_columns=False,  # the marker columns feed the loss, not the model's forward
        label_names=["sent_label"],
        ddp_find_unused_parameters=False,
        # windows of one and full windows in one batch would pad the short ones to the long:
        # batches of like length keep the padding small
        train_sampling_strategy="group_by_length",
    )
    callbacks = []
    if args.early_stopping_patience > 0:
        callbacks.append(transformers.EarlyStoppingCallback(early_stopping_patience=args.early_stopping_patience))
    trainer = _make_trainer_class(args.span_loss_weight if args.train_spans else 0.0)(
        model=model, args=hf_args, train_dataset=Dataset.from_list(train_examples),
        eval_dataset=Dataset.from_list(dev_examples), processing_class=tokenizer,
        data_collator=WindowCollator(tokenizer.pad_token_id), compute_metrics=_compute_metrics, callbacks=callbacks,
    )
    resume_from = bool(resume and os.path.isdir(checkpoint_dir) and any(
        d.startswith("checkpoint-") for d in os.listdir(checkpoint_dir)))
    trainer.train(resume_from_checkpoint=True if resume_from else None)
    return trainer


# ---- 4. scores and calibration ------------------------------------------------------------

def _calibrate(clf: StanceClassifier, logits: np.ndarray, records: list[dict], fitted_on: str) -> dict:
    """Fit the temperature on the raw ``logits`` of ``records`` (definite labels) and set it on ``clf``.

    The ECE after scaling is also measured two-fold (fitted on one half, measured on the
    other), because ECE on the very sentences the temperature was fitted on is optimistic.
    """
    from .calibration import softmax

    definite = [k for k, r in enumerate(records) if r["label"]]
    logits = logits[definite]
    label_ids = np.array([LABEL2ID[records[k]["label"]] for k in definite])
    clf.temperature = fit_temperature(logits, label_ids)
    halves = np.arange(len(definite)) % 2
    crossed = []
    for h in (0, 1):
        t = fit_temperature(logits[halves == h], label_ids[halves == h])
        crossed.append(expected_calibration_error(softmax(logits[halves != h], t), label_ids[halves != h]))
    return {
        "temperature": clf.temperature,
        "fitted_on": fitted_on,
        "n": len(definite),
        "ece_before": expected_calibration_error(softmax(logits, 1.0), label_ids),
        "ece_after": expected_calibration_error(softmax(logits, clf.temperature), label_ids),
        "ece_after_two_fold": float(np.mean(crossed)),
    }


def score_and_calibrate(clf: StanceClassifier, splits: dict, args: TrainingArguments) -> tuple[dict, dict]:
    """Dev scores (bundled dev, its minimal pairs, the real-news dev part) and the calibration.

    One pass over each set serves its labels, spans and the temperature. The temperature is
    fitted on the real-news dev part where the recipe has it (the model is used on real news),
    else on the bundled dev split; it never changes a prediction.
    """
    from .evaluation import real_news_dev_scores

    scores = {}
    dev_logits, dev_spans = clf.read_records(splits["dev"], with_spans=clf.has_spans)
    scores["dev"] = classification_scores([r["label"] for r in splits["dev"]], [LABELS[k] for k in dev_logits.argmax(1)])
    if dev_spans is not None:
        scores["dev_spans"] = evaluate_spans(clf, splits["dev"], found=dev_spans)
    if splits.get("dev_pairs"):
        pair_logits, _ = clf.read_records(splits["dev_pairs"])
        scores["dev_minimal_pairs"] = minimal_pair_scores(splits["dev_pairs"], [LABELS[k] for k in pair_logits.argmax(1)])
    real_dev = splits.get("real_news_dev") or []
    if real_dev:
        real_logits, _ = clf.read_records(real_dev)
        calibration = _calibrate(clf, real_logits, real_dev, "real-news dev")
        scores["real_news_dev_part"] = real_news_dev_scores(clf, real_dev, logits=real_logits)
    else:
        calibration = _calibrate(clf, dev_logits, splits["dev"], "dev")
    if args.real_news and args.real_news_dev:
        # PolNeAR dev and CheckThat! dev were kept out of training: their binary views too
        from .evaluation import REAL_NEWS_DEV_SETS, evaluate_real_news

        scored = evaluate_real_news({args.run_name: clf}, list(REAL_NEWS_DEV_SETS), args.real_news_dir, n_resamples=200)
        scores["real_news_dev"] = {name: by_system[args.run_name] for name, by_system in scored.items()}
    return scores, calibration


# ---- the whole run ------------------------------------------------------------------------

def load_backbone(args: TrainingArguments):
    """A fresh ``DocumentModel`` (sequence classifier + token head) and its tokenizer."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from .network import DocumentModel

    path, local = resolve_backbone(args.backbone)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
    encoder = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(LABELS), id2label=ID2LABEL, label2id=LABEL2ID,
        local_files_only=local, use_safetensors=True, trust_remote_code=False,
    )
    return DocumentModel(encoder, with_spans=args.train_spans, marker_id=tokenizer.cls_token_id), tokenizer


def _data_hashes(args: TrainingArguments, splits: dict) -> dict:
    data_files = [f for f in (args.train_file, *args.extra_train_files, args.dev_file, args.pairs_file) if f]
    hashes = {f: {"sha256": file_sha256(f)} for f in data_files}
    real = [r for r in splits["train"] if r.get("_real_news")]
    if real:  # a content hash of what was read, never the text itself
        digest = hashlib.sha256("\n".join(f"{r['text']}\t{','.join(r['allowed'])}" for r in real).encode()).hexdigest()
        hashes["real_news"] = {"sha256": digest, "n": len(real)}
    return hashes


def train(args: TrainingArguments, resume: bool = False, model=None, tokenizer=None) -> dict:
    """Train, save ``<output_dir>/model`` and return a summary (paths and dev metrics).

    ``model`` (a ``network.DocumentModel`` or a BERT-style sequence classifier) and
    ``tokenizer`` may be passed in (the tests use a tiny random BERT); otherwise they are
    loaded from ``args.backbone``.
    """
    import transformers

    from .network import DocumentModel

    transformers.set_seed(args.seed)
    splits = load_training_data(args)
    data_hashes = _data_hashes(args, splits)  # what was read, before a long run
    if model is None or tokenizer is None:
        model, tokenizer = load_backbone(args)
    elif not isinstance(model, DocumentModel):
        model = DocumentModel(model, with_spans=args.train_spans)
    model.marker_id = tokenizer.cls_token_id
    positions = getattr(model.encoder.config, "max_position_embeddings", 512)
    if args.window_tokens > positions:
        raise ValueError(f"window_tokens {args.window_tokens} exceeds the backbone's {positions} positions")
    model.encoder.config.id2label, model.encoder.config.label2id = dict(ID2LABEL), dict(LABEL2ID)
    model.encoder.config.problem_type = "single_label_classification"

    weights, weight_of = example_weights(args, splits["train"])
    train_examples = window_examples(splits["train"], tokenizer, args, weight_of, args.lone_sentence_rate, args.seed)
    dev_examples = window_examples(splits["dev"] + splits.get("dev_pairs", []), tokenizer, args, weight_of)
    trainer = fit(model, tokenizer, train_examples, dev_examples, args, resume)
    if not trainer.is_world_process_zero():
        # under torchrun / accelerate launch, rank 0 alone scores and saves the one model
        return {"model_dir": args.model_dir, "model_card": None, "metrics": {}}

    clf = StanceClassifier(trainer.model.cpu(), tokenizer, max_length=args.max_length,
                           metadata={"training_args": args.to_dict()}, window_tokens=args.window_tokens,
                           window_overlap=args.window_overlap)
    dev_scores, calibration = score_and_calibrate(clf, splits, args)
    clf.metadata = {
        "stancelib_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run_name": args.run_name,
        "training_args": args.to_dict(),
        "data": data_hashes,
        "n_train": sum(1 for r in splits["train"]),
        "n_train_windows": len(train_examples),
        "n_train_real_news": sum(1 for r in splits["train"] if r.get("_real_news")),
        "n_train_real_news_references": sum(1 for r in splits["train"] if r.get("_reference")),
        "n_dev": len(splits["dev"]) + len(splits.get("dev_pairs", [])),
        "class_weights": weights,
        "calibration": calibration,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "epochs_run": trainer.state.epoch,
        "environment": {"python": platform.python_version(), "transformers": transformers.__version__,
                        "cpu": cpu_description()},
        "metrics": dev_scores,
        "evaluations": {},
    }
    clf.save_pretrained(args.model_dir, model_card=render_model_card(clf.metadata))
    card_copy = write_model_card_copy(clf.metadata, args.model_card_dir)
    if not args.keep_checkpoints:
        shutil.rmtree(os.path.join(args.output_dir, "checkpoints"), ignore_errors=True)
    return {"model_dir": args.model_dir, "model_card": card_copy, "metrics": dev_scores}


def cpu_description() -> str:
    """The CPU model, core count and int8 dot-product support, for every recorded timing."""
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and model in ("unknown CPU", ""):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = "AVX-512 VNNI" if "avx512_vnni" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
    return f"{model}, {os.cpu_count()} cores, {isa}"
