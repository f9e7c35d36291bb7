"""Model cards, generated from a model's ``stancelib.json`` metadata.

The card quotes only figures recorded in the metadata by the run itself
(dev scores at training time, and the reports of ``stancelib evaluate``),
so every number in it can be traced to a run.
"""

from __future__ import annotations

import os

from .atomic import write_text
from .labels import DESCRIPTIONS, LABELS


def _scores_table(evaluations: dict) -> list[str]:
    lines = []
    for data_name, ev in evaluations.items():
        lines += [f"### {data_name}", "", f"Evaluated {ev.get('date', '')} on `{ev.get('data', data_name)}` "
                  f"({ev.get('n', '?')} sentences){'; minimal pairs: `' + ev['pairs'] + '`' if ev.get('pairs') else ''}.", ""]
        lines += ["| system | macro-F1 | accuracy | " + " | ".join(f"F1 {n}" for n in LABELS)
                  + " | minimal-pair accuracy | ECE (uncalibrated) |",
                  "|---|---|---|" + "---|" * len(LABELS) + "---|---|"]
        for system, rep in ev["systems"].items():
            pairs = rep.get("minimal_pairs", {}).get("accuracy")
            cal = rep.get("calibration", {})
            ece = f"{cal['ece']:.3f}" if "ece" in cal else "-"
            if "ece_uncalibrated" in cal:
                ece += f" ({cal['ece_uncalibrated']:.3f})"
            lines.append(f"| {system} | {rep['macro_f1']:.3f} | {rep['accuracy']:.3f} | "
                         + " | ".join(f"{rep['per_class'][n]['f1']:.3f}" for n in LABELS)
                         + f" | {'-' if pairs is None else f'{pairs:.3f}'} | {ece} |")
        lines.append("")
        for system, rep in ev["systems"].items():
            if "spans" in rep:
                sp = rep["spans"]
                lines += [f"Source and cue spans of {system} on the attributed sentences "
                          f"({sp['source']['n_gold']} gold sources, {sp['cue']['n_gold']} gold cues): "
                          f"source F1 exact {sp['source']['exact']['f1']:.3f} / overlap {sp['source']['overlap']['f1']:.3f}; "
                          f"cue F1 exact {sp['cue']['exact']['f1']:.3f} / overlap {sp['cue']['overlap']['f1']:.3f}.", ""]
    return lines


def _shown(path: str) -> str:
    """A data path as a card shows it: relative to the working folder when it lies inside it (the
    project's own ``data/corpus/...``), so a published card does not carry one machine's layout."""
    rel = os.path.relpath(path) if os.path.isabs(path) else path
    return path if rel.startswith("..") else rel


def render_model_card(meta: dict) -> str:
    args = meta.get("training_args", {})
    dev = meta.get("metrics", {}).get("dev", {})
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "language: en",
        "license: apache-2.0",
        "tags: [stancelib, news, attribution]",
        "---",
        f"# stancelib model: {meta.get('run_name', 'unnamed')}",
        "",
        "Labels every sentence of a news text by who stands behind it (scheme: stancelib's LABELS.md):",
        "",
        *[f"- `{name}`: {DESCRIPTIONS[name]}" for name in LABELS],
        "",
        "## Use",
        "",
        "```python",
        "from stancelib import StanceClassifier",
        "clf = StanceClassifier.from_pretrained(MODEL_DIR)",
        'clf.predict("The ministry said 40 people were hurt.")',
        "```",
        "",
        "It is also a plain Hugging Face model: `transformers.pipeline(\"text-classification\", model=MODEL_DIR)`.",
        "",
        "A document model: `clf.analyze(article)` packs the article's sentences into windows of up to "
        f"{args.get('window_tokens', 256)} tokens and labels each sentence from its own `[CLS]` marker, with its "
        "source and cue from the token head of the same pass; `predict` and `predict_proba` read each string "
        "as a window of one, exactly as the pipeline does.",
        "",
        "## Training",
        "",
        f"- backbone: `{args.get('backbone')}`; max_length {args.get('max_length')}; learning rate {args.get('learning_rate')}; "
        f"batch {args.get('per_device_train_batch_size')}; up to {args.get('num_train_epochs')} epochs "
        f"(ran {meta.get('epochs_run')}); seed {args.get('seed')}; class weights "
        f"{[round(w, 3) for w in meta['class_weights']] if meta.get('class_weights') else 'none'}",
        f"- {meta.get('n_train')} training sentences, {meta.get('n_dev')} dev sentences; created {meta.get('created')} "
        f"with stancelib {meta.get('stancelib_version')}",
        *([f"- real news (news-mix): {meta.get('n_train_real_news')} sentences; cap {args.get('real_news_max')}, "
           f"weight {args.get('real_news_weight')}, partial-label weight {args.get('partial_label_weight')}"
           + ("; PolNeAR dev and CheckThat! dev kept out" if args.get("real_news_dev") else "")]
          if args.get("real_news") else []),
        f"- windows of up to {args.get('window_tokens', 256)} tokens, sentences of up to {args.get('max_length')} "
        f"tokens; {args.get('lone_sentence_rate', 0):.0%} of the sentences also trained alone; source/cue head "
        + ("trained jointly" if args.get("train_spans", True) else "not trained"),
        *([f"- real-news three-way references (train part): {meta.get('n_train_real_news_references')} sentences, "
           f"weight {args.get('real_news_references_weight')}"
           + ("; labels balanced within each corpus" if args.get("real_news_references_balanced") else "")]
          if args.get("real_news_references") else []),
        *([f"- training-only files beside the training split: {', '.join(f'`{_shown(p)}`' for p in args['extra_train_files'])}"]
          if args.get("extra_train_files") else []),
        "- data files (sha256):",
        *[f"  - `{_shown(path)}`: `{info['sha256'][:16]}`" for path, info in meta.get("data", {}).items()],
        "",
        "## Scores",
        "",
    ]
    if dev:
        lines += [f"Dev split (used for early stopping, so optimistic): macro-F1 {dev['macro_f1']:.3f}, accuracy {dev['accuracy']:.3f}.", ""]
    real_dev = meta.get("metrics", {}).get("real_news_dev")
    if real_dev:
        lines += ["Real-news dev splits, kept out of training (`real_news_dev`) and used to tune the recipe:", ""]
        lines += [f"- `{name}` ({sc['meaning']}, {sc['n']} sentences): F1 {sc['f1']:.3f}, macro-F1 {sc['macro_f1']:.3f}"
                  for name, sc in real_dev.items()]
        lines.append("")
    part = meta.get("metrics", {}).get("real_news_dev_part")
    if part:
        lines += [f"Real-news dev part (the project's own three-way labels of real news, never trained on; "
                  f"{part['n']} sentences): macro-F1 {part['macro_f1']:.3f}; "
                  + ", ".join(f"F1 {n} {part['per_class'][n]['f1']:.3f}" for n in LABELS)
                  + f"; neutral reports called claims {part['neutral_called_claim']:.1%}.", ""]
    cal = meta.get("calibration")
    if cal:
        lines += [f"Calibration: temperature {cal['temperature']:.3f} fitted on the {cal['fitted_on']} set "
                  f"({cal['n']} sentences); ECE there {cal['ece_before']:.3f} before, {cal['ece_after']:.3f} after "
                  f"({cal['ece_after_two_fold']:.3f} fitted and measured on different halves). "
                  "Probabilities are calibrated by default; `predict(texts, min_confidence=p)` returns "
                  "`\"uncertain\"` below p.", ""]
    if meta.get("evaluations"):
        lines += _scores_table(meta["evaluations"])
    else:
        lines += ["No held-out evaluation recorded yet: run `stancelib evaluate --model MODEL_DIR --data TEST.jsonl`.", ""]
    parity = meta.get("onnx", {}).get("parity")
    if parity:
        lines += [f"### ONNX export ({meta['onnx'].get('quantize') or 'float32'})", "",
                  f"On `{parity['data']}` ({parity['n']} sentences) the exported model's labels agree with the "
                  f"PyTorch model's on {parity['label_agreement']:.1%} of sentences; macro-F1 "
                  f"{parity['macro_f1_onnx']:.4f} (ONNX) vs {parity['macro_f1_pytorch']:.4f} (PyTorch)"
                  + (f"; source and cue spans agree on {parity['span_agreement']:.1%} of attributed sentences"
                     if "span_agreement" in parity else "") + ".", ""]
    if meta.get("real_news"):
        lines += ["### Held-out real news", "", f"From `scripts/results_table.py`, {meta['real_news']['date']}:", "",
                  meta["real_news"]["table"], ""]
    lines += [
        "## Limitations",
        "",
        "- Trained on English news written for the project; scores on other outlets, genres and languages will be lower.",
        "- One label per sentence: a sentence mixing a sourced statement with the writer's judgement gets the label of its main clause.",
        "- Sentences longer than max_length tokens are cut; analyse articles with `analyze()`, which labels each sentence in its context.",
        "",
    ]
    return "\n".join(lines)


def write_model_card_copy(meta: dict, card_dir: str | None) -> str | None:
    """Copy the card to ``card_dir/<run_name>.md`` (the repository's ``model_cards/``)."""
    if not card_dir:
        return None
    path = os.path.join(card_dir, f"{meta.get('run_name', 'model')}.md")
    write_text(path, render_model_card(meta))
    return path
