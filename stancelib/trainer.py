"""Fine-tune an encoder into the three-way classifier with ``transformers.Trainer``.

``train(args)`` reads and validates the data, checks that no sentence is in two
splits, fine-tunes with class weights and early stopping on dev macro-F1,
keeps the best checkpoint, and writes ``<output_dir>/model`` atomically with
its metadata and model card.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil

import numpy as np

from . import __version__
from .backbones import resolve_backbone
from .calibration import expected_calibration_error, fit_temperature, softmax
from .data import check_disjoint, file_sha256, load_minimal_pairs, neighbour_contexts, read_records, to_dataset
from .evaluation import classification_scores, minimal_pair_scores
from .labels import ID2LABEL, LABEL2ID, LABELS
from .model_card import render_model_card, write_model_card_copy
from .modeling import StanceClassifier
from .spans import evaluate_spans, load_span_backbone, train_span_tagger
from .training_args import TrainingArguments


def sample_real_news(records: list[dict], limit: int | dict | None, seed: int) -> list[dict]:
    """The real-news records to train on, sampled the same share from each (corpus label, allowed set) stratum.

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


def load_training_data(args: TrainingArguments) -> dict[str, list[dict]]:
    """Train and dev records (minimal pairs of each split folded in), checked for cross-split leaks."""
    splits = {"train": [r for path in (args.train_file, *args.extra_train_files) for r in read_records(path)],
              "dev": read_records(args.dev_file)}
    if args.pairs_file:
        splits["train"] += [r | {"_pair": True} for r in load_minimal_pairs(args.pairs_file, "train")]
        splits["dev_pairs"] = [r | {"_pair": True} for r in load_minimal_pairs(args.pairs_file, "dev")]
    if args.real_news:
        from .corpora import trainable_records

        real = sample_real_news(trainable_records(args.real_news_dir, keep_dev_out=args.real_news_dev),
                                args.real_news_max, args.seed)
        splits["train"] += [rec | {"_real_news": True} for rec in real]
    held_out = {}
    if args.test_file:
        held_out["test"] = read_records(args.test_file)
        if args.pairs_file:
            held_out["test_pairs"] = load_minimal_pairs(args.pairs_file, "test")
    # the test sets take part in the leak check only; nothing else reads them here
    check_disjoint({"train": splits["train"], "dev": splits["dev"] + splits.get("dev_pairs", []),
                    "test": held_out.get("test", []) + held_out.get("test_pairs", [])})
    return splits


def class_weights(args: TrainingArguments, labels: list[str]) -> list[float] | None:
    if args.class_weights == "none":
        return None
    if isinstance(args.class_weights, list):
        return [float(w) for w in args.class_weights]
    counts = np.array([labels.count(name) for name in LABELS], dtype=float)
    if (counts == 0).any():
        missing = [n for n, c in zip(LABELS, counts) if c == 0]
        raise ValueError(f"the training data has no sentence labelled {', '.join(missing)}")
    return (counts.sum() / (len(LABELS) * counts)).tolist()


def _make_trainer_class():
    import torch
    from transformers import Trainer

    class PartialLabelTrainer(Trainer):
        """Loss = -log P(label in allowed set), weighted per example.

        For a definite label this is ordinary cross-entropy; for a partial label
        ("neutral or attributed") it only asks the model to put its mass on the
        allowed labels. Each example carries a weight: its class weight for a
        definite label, ``partial_label_weight`` for a partial one, so the clean
        three-way examples are not drowned by the partial ones (FINDINGS.md).
        """

        def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
            inputs.pop("labels", None)
            mask = inputs.pop("label_mask").bool()
            weight = inputs.pop("weight").to(torch.float32)
            outputs = model(**inputs)
            logits = outputs.logits.float()
            per_example = torch.logsumexp(logits, dim=-1) - torch.logsumexp(logits.masked_fill(~mask, float("-inf")), dim=-1)
            denom = weight.sum()
            if self.accelerator.num_processes > 1:
                # under DDP the gradients are averaged over ranks: normalise by the global mean weight sum
                denom = self.accelerator.reduce(denom.detach(), reduction="sum") / self.accelerator.num_processes
            loss = (per_example * weight).sum() / denom.clamp_min(1e-8)
            return (loss, outputs) if return_outputs else loss

    return PartialLabelTrainer


def _contexts(records: list[dict], args: TrainingArguments, dropout: float = 0.0) -> list[str] | None:
    """Neighbour contexts for a context-aware run (``None`` otherwise); minimal pairs stand alone.

    ``dropout`` empties the context of that share of the records (drawn with ``args.seed``, so a
    run is repeatable), except those whose hard note names rule 12: their label is their
    neighbours' speaker's, and read alone they would teach the model to guess it.
    """
    if not args.context:
        return None
    contexts = neighbour_contexts([{"text": r["text"]} if r.get("_pair") else r for r in records], args.context_window)
    if dropout:
        rng = np.random.default_rng(args.seed)
        drop = rng.random(len(records)) < dropout
        contexts = ["" if d and "rule 12" not in (r.get("hard") or "") else c
                    for c, d, r in zip(contexts, drop, records)]
    return contexts


def _calibrate(clf: StanceClassifier, logits: np.ndarray, records: list[dict]) -> dict:
    """Fit the temperature on the ``logits`` of ``records`` (definite labels only) and set it on ``clf``."""
    definite = [k for k, r in enumerate(records) if r["label"]]
    logits = logits[definite]
    label_ids = np.array([LABEL2ID[records[k]["label"]] for k in definite])
    clf.temperature = fit_temperature(logits, label_ids)
    return {
        "temperature": clf.temperature,
        "fitted_on": "dev",
        "dev_ece_before": expected_calibration_error(softmax(logits), label_ids),
        "dev_ece_after": expected_calibration_error(softmax(logits, clf.temperature), label_ids),
    }


def _compute_metrics(eval_pred) -> dict:
    logits, label_ids = eval_pred
    keep = np.asarray(label_ids) >= 0  # partial labels (-100) take no part in dev scores
    preds = np.asarray(logits).argmax(axis=-1)[keep]
    scores = classification_scores([LABELS[k] for k in np.asarray(label_ids)[keep]], [LABELS[k] for k in preds])
    out = {"macro_f1": scores["macro_f1"], "accuracy": scores["accuracy"]}
    out.update({f"f1_{name}": scores["per_class"][name]["f1"] for name in LABELS})
    return out


def train(args: TrainingArguments, resume: bool = False, model=None, tokenizer=None, span_model=None) -> dict:
    """Train, save ``<output_dir>/model`` and return a summary (paths and dev metrics).

    ``model``/``tokenizer`` (and ``span_model``, a token-classification model for
    the span head) may be passed in (the tests use a tiny random BERT); otherwise
    they are loaded from ``args.backbone``.
    """
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    transformers.set_seed(args.seed)
    data_files = [f for f in (args.train_file, *args.extra_train_files, args.dev_file, args.pairs_file) if f]
    data_hashes = {f: {"sha256": file_sha256(f)} for f in data_files}  # what was read, before a long run
    splits = load_training_data(args)
    real = [r for r in splits["train"] if r.get("_real_news")]
    if real:  # a content hash of what was read, never the text itself
        import hashlib

        digest = hashlib.sha256("\n".join(f"{r['text']}\t{','.join(r['allowed'])}" for r in real).encode()).hexdigest()
        data_hashes["real_news"] = {"sha256": digest, "n": len(real)}
    dev_records = splits["dev"] + splits.get("dev_pairs", [])

    if model is None or tokenizer is None:
        path, local = resolve_backbone(args.backbone)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=len(LABELS), id2label=ID2LABEL, label2id=LABEL2ID,
            local_files_only=local, use_safetensors=True, trust_remote_code=False,
        )
    model.config.id2label, model.config.label2id = dict(ID2LABEL), dict(LABEL2ID)
    model.config.problem_type = "single_label_classification"

    # class weights come from the bundled corpus's definite labels, which the real news must not drown
    weights = class_weights(args, [r["label"] for r in splits["train"] if r["label"] and not r.get("_real_news")])

    def example_weight(rec):
        w = (weights[LABEL2ID[rec["label"]]] if weights else 1.0) if rec["label"] else args.partial_label_weight
        return w * (real_news_weight(args.real_news_weight, rec.get("corpus")) if rec.get("_real_news") else 1.0)

    def encode(records, context_dropout=0.0):
        ds = to_dataset(records)
        if args.context:
            ds = ds.add_column("context", _contexts(records, args, context_dropout))
        ds = ds.add_column("labels", [LABEL2ID[r["label"]] if r["label"] else -100 for r in records])
        ds = ds.add_column("label_mask", [[float(n in r["allowed"]) for n in LABELS] for r in records])
        ds = ds.add_column("weight", [example_weight(r) for r in records])
        if args.context:
            ds = ds.map(lambda b: tokenizer(b["text"], b["context"], truncation="only_second",
                                            max_length=args.max_length * 3), batched=True)
        else:
            ds = ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=args.max_length), batched=True)
        keep = ["input_ids", "attention_mask", "labels", "label_mask", "weight"]
        return ds.select_columns(keep + (["token_type_ids"] if "token_type_ids" in ds.column_names else []))

    train_ds, dev_ds = encode(splits["train"], args.context_dropout), encode(dev_records)

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
        remove_unused_columns=False,  # label_mask and weight feed the loss, not the model
        ddp_find_unused_parameters=False,
    )
    callbacks = []
    if args.early_stopping_patience > 0:
        callbacks.append(transformers.EarlyStoppingCallback(early_stopping_patience=args.early_stopping_patience))
    trainer = _make_trainer_class()(
        model=model, args=hf_args, train_dataset=train_ds, eval_dataset=dev_ds,
        processing_class=tokenizer, data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=_compute_metrics, callbacks=callbacks,
    )
    resume_from = bool(resume and os.path.isdir(checkpoint_dir) and any(
        d.startswith("checkpoint-") for d in os.listdir(checkpoint_dir)))
    trainer.train(resume_from_checkpoint=True if resume_from else None)
    span_tagger = None
    if args.train_spans:
        # every rank takes part (under torchrun the span trainer is distributed too)
        if span_model is None:
            span_model, span_tokenizer = load_span_backbone(args)
        else:
            span_tokenizer = tokenizer
        span_dir = os.path.join(args.output_dir, "span-checkpoints")
        # real-news sentences teach spans only where the corpus marks both inside the sentence
        span_records = [r for r in splits["train"] if not r.get("_real_news") or (r["source"] and r["cue"])]
        span_tagger = train_span_tagger(span_records, args, span_dir, span_model, span_tokenizer)
    if not trainer.is_world_process_zero():
        # under torchrun / accelerate launch, rank 0 alone scores and saves the one model
        return {"model_dir": args.model_dir, "model_card": None, "metrics": {}}

    clf = StanceClassifier(trainer.model.cpu(), tokenizer, max_length=args.max_length,
                           metadata={"training_args": args.to_dict()})
    # temperature scaling on the dev split; it never changes a prediction
    # one pass over the dev records (split, then pairs) serves the temperature and the dev scores;
    # temperature scaling never changes a prediction, so the argmax of the raw logits is the label
    dev_logits = clf._logits([r["text"] for r in dev_records], contexts=_contexts(dev_records, args))
    calibration = _calibrate(clf, dev_logits, dev_records)
    dev_preds = [LABELS[k] for k in dev_logits.argmax(axis=1)]
    n_dev = len(splits["dev"])
    dev_scores = {"dev": classification_scores([r["label"] for r in splits["dev"]], dev_preds[:n_dev])}
    if splits.get("dev_pairs"):
        dev_scores["dev_minimal_pairs"] = minimal_pair_scores(splits["dev_pairs"], dev_preds[n_dev:])
    if args.real_news and args.real_news_dev:
        # the real-news dev sets were kept out of training: these are the scores a recipe is tuned on
        from .evaluation import REAL_NEWS_DEV_SETS, evaluate_real_news

        scored = evaluate_real_news({args.run_name: clf}, list(REAL_NEWS_DEV_SETS), args.real_news_dir, n_resamples=200)
        dev_scores["real_news_dev"] = {name: by_system[args.run_name] for name, by_system in scored.items()}
    if span_tagger is not None:
        clf.span_tagger = span_tagger
        dev_scores["dev_spans"] = evaluate_spans(span_tagger, splits["dev"])
        shutil.rmtree(span_dir, ignore_errors=True)

    clf.metadata = {
        "stancelib_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run_name": args.run_name,
        "training_args": args.to_dict(),
        "data": data_hashes,
        "n_train": len(splits["train"]),
        "n_train_real_news": sum(1 for r in splits["train"] if r.get("_real_news")),
        "n_dev": len(dev_records),
        "class_weights": weights,
        "calibration": calibration,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "epochs_run": trainer.state.epoch,
        "environment": {"python": platform.python_version(), "transformers": transformers.__version__},
        "metrics": dev_scores,
        "evaluations": {},
    }
    clf.save_pretrained(args.model_dir, model_card=render_model_card(clf.metadata))
    card_copy = write_model_card_copy(clf.metadata, args.model_card_dir)
    if not args.keep_checkpoints:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    return {"model_dir": args.model_dir, "model_card": card_copy, "metrics": dev_scores}
