#!/usr/bin/env python3
"""Sentence-only vs context-aware models on the bundled test split, its hard cases, and PolNeAR test.

Usage: python scripts/compare_context.py [--models runs/default/model runs/context/model] [--data-dir DIR]
Prints macro-F1 on the test split, accuracy on its pronoun-source (rule 11) and quote-continuation
(rule 12) sentences, and attributed F1 on PolNeAR test (skipped when the real corpora are absent).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from stancelib.data import read_records  # noqa: E402
from stancelib.evaluation import _predict_with_probs, classification_scores, evaluate_real_news, system_name  # noqa: E402
from stancelib.modeling import StanceClassifier  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["runs/default/model", "runs/context/model"])
    parser.add_argument("--test", default="data/corpus/test.jsonl")
    parser.add_argument("--data-dir", default=None)
    ns = parser.parse_args()
    test = read_records(ns.test)
    pronouns = {"he", "she", "they", "it", "we"}
    attributed = [(k, r) for k, r in enumerate(test) if r["label"] == "attributed_statement"]
    subsets = {
        # attributed sentences whose source span is a pronoun (LABELS.md rule 11)
        "pronoun source (rule 11)": [k for k, r in attributed if r["source"] and r["source"]["text"].lower() in pronouns],
        # attributed sentences with no source or cue inside them: quote continuations (rule 12)
        "quote continuation (rule 12)": [k for k, r in attributed if not r["source"] and not r["cue"]],
    }
    systems = {system_name(clf, path): clf for path in ns.models for clf in [StanceClassifier.from_pretrained(path)]}
    try:
        polnear = evaluate_real_news(systems, ["polnear-test"], ns.data_dir, n_resamples=200)["polnear-test"]
    except FileNotFoundError:
        polnear = None
    print(f"{'system':28s} {'test macro-F1':>14s} " + " ".join(f"{name:>30s}" for name in subsets)
          + ("  PolNeAR test attributed F1" if polnear else ""))
    for name, clf in systems.items():
        # a context-aware model gets each sentence's neighbours from the test split's doc/i
        preds, _ = _predict_with_probs(clf, [r["text"] for r in test], test)
        report = classification_scores([r["label"] for r in test], preds)
        cells = []
        for idx in subsets.values():
            right = sum(preds[k] == test[k]["label"] for k in idx)
            cells.append(f"{right}/{len(idx)} = {right / max(len(idx), 1):.3f}")
        line = f"{name:28s} {report['macro_f1']:14.3f} " + " ".join(f"{c:>30s}" for c in cells)
        if polnear:
            sc = polnear[name]
            line += f"  {sc['f1']:.3f} [{sc['f1_ci95'][0]:.3f}, {sc['f1_ci95'][1]:.3f}]"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
