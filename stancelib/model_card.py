"""Model cards, generated from a model's ``stancelib.json`` metadata.

The card quotes only figures recorded in the metadata by the run itself
(dev scores at training time, and the reports of ``stancelib evaluate``),
so every number in it can be traced to a run.
"""

from __future__ import annotations

import os

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
        *(["Context-aware: `clf.analyze(article)` reads each sentence with its neighbours; `predict` and "
           "`predict_proba` read each string alone unless given `contexts=[...]`, and so does the pipeline.", ""]
          if args.get("context") else []),
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
        *([f"- context-aware: {args.get('context_window', 1)} sentence(s) on each side as a second segment"
           + (f"; {args['context_dropout']:.0%} of training sentences read alone (context dropout)"
              if args.get("context_dropout") else "")]
          if args.get("context") else []),
        *([f"- training-only files beside the training split: {', '.join(f'`{p}`' for p in args['extra_train_files'])}"]
          if args.get("extra_train_files") else []),
        "- data files (sha256):",
        *[f"  - `{path}`: `{info['sha256'][:16]}`" for path, info in meta.get("data", {}).items()],
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
    cal = meta.get("calibration")
    if cal:
        lines += [f"Calibration: temperature {cal['temperature']:.3f} fitted on the dev split; dev ECE "
                  f"{cal['dev_ece_before']:.3f} before, {cal['dev_ece_after']:.3f} after. "
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
                  f"{parity['macro_f1_onnx']:.4f} (ONNX) vs {parity['macro_f1_pytorch']:.4f} (PyTorch).", ""]
    if meta.get("real_news"):
        lines += ["### Held-out real news", "", f"From `scripts/results_table.py`, {meta['real_news']['date']}:", "",
                  meta["real_news"]["table"], ""]
    lines += [
        "## Limitations",
        "",
        "- Trained on English news written for the project; scores on other outlets, genres and languages will be lower.",
        "- One label per sentence: a sentence mixing a sourced statement with the writer's judgement gets the label of its main clause.",
        "- Inputs longer than max_length tokens are truncated; analyse articles with `analyze()`, which labels each sentence.",
        "",
    ]
    return "\n".join(lines)


def write_model_card_copy(meta: dict, card_dir: str | None) -> str | None:
    """Copy the card to ``card_dir/<run_name>.md`` (the repository's ``model_cards/``)."""
    if not card_dir:
        return None
    os.makedirs(card_dir, exist_ok=True)
    path = os.path.join(card_dir, f"{meta.get('run_name', 'model')}.md")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render_model_card(meta))
    os.replace(tmp, path)
    return path
