#!/usr/bin/env python3
"""What reading the article adds, where the neighbouring sentences decide (LABELS.md rules 11, 12).

Usage: python scripts/compare_context.py [--models runs/default/model ...] [--data-dir DIR] [--name context]

The first model is scored twice: each sentence alone (a window of one, the baseline) and in its
article's windows; further models in their windows. Sets, each scored for every system in one run:
- the bundled test split (three-way macro-F1; its pronoun-source and quote-continuation sentences);
- the context challenge set (data/corpus/context_challenge/{dev,test,test2}.jsonl, evaluation only; dev
  was read to diagnose the models, test and test2 were written afterwards and only scored): its rule-12
  continuations (and those among them with no quote mark at all: the middle sentences of a quote,
  which only the neighbours can tell from the writer's voice), rule-11 pronoun sources, and the
  look-alikes (sentences that are not attributed but stand next to an attributed one, where a
  model that copies its neighbour's label goes wrong);
- PolNeAR test (held out; skipped when the real corpora are absent): attributed F1, and the recall of
  attributed sentences whose source and cue both lie in another sentence.
For each subset it prints accuracy and the paired comparison (sentences only one model gets right,
exact two-sided McNemar p-value). Writes results/context.md and results/context.json (file names: --name).
"""

import argparse
import datetime
import json
import os
import sys

import numpy as np
from scipy.stats import binomtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from stancelib.data import read_records  # noqa: E402
from stancelib.evaluation import (binary_scores, bootstrap_ci, classification_scores, predict_labels_and_probs,  # noqa: E402
                                  load_real_news_set, system_name)
from stancelib.modeling import StanceClassifier  # noqa: E402

PRONOUNS = {"he", "she", "they", "it", "we"}
QUOTE_MARKS = set("\"\u201c\u201d")  # straight and curly double quotes


def bundled_subsets(records: list[dict]) -> dict[str, list[int]]:
    attributed = [(k, r) for k, r in enumerate(records) if r["label"] == "attributed_statement"]
    return {
        "pronoun source (rule 11)": [k for k, r in attributed if r["source"] and r["source"]["text"].lower() in PRONOUNS],
        "quote continuation (rule 12)": [k for k, r in attributed if not r["source"] and not r["cue"]],
    }


def challenge_subsets(records: list[dict]) -> dict[str, list[int]]:
    label_at = {(r["doc"], r["i"]): r["label"] for r in records}

    def beside_attributed(r):
        return "attributed_statement" in (label_at.get((r["doc"], r["i"] - 1)), label_at.get((r["doc"], r["i"] + 1)))

    return {
        "all": list(range(len(records))),
        "quote continuation (rule 12)": [k for k, r in enumerate(records) if r["hard"].startswith("rule 12")],
        "... of which no quote mark in the sentence": [k for k, r in enumerate(records)
                                                       if r["hard"].startswith("rule 12") and not QUOTE_MARKS & set(r["text"])],
        "pronoun source (rule 11)": [k for k, r in enumerate(records) if r["hard"].startswith("rule 11")],
        "look-alikes (not attributed, next to an attributed sentence)":
            [k for k, r in enumerate(records) if r["label"] != "attributed_statement" and beside_attributed(r)],
    }


class Alone:
    """A model that reads every sentence on its own (a window of one): what context adds is the difference."""

    def __init__(self, clf):
        self.clf, self.labels = clf, clf.labels

    def predict_proba(self, texts):
        return self.clf.predict_proba(texts)


def paired(right_a: np.ndarray, right_b: np.ndarray) -> dict:
    """Sentences only A / only B gets right, and the exact McNemar p-value of the difference."""
    only_a, only_b = int((right_a & ~right_b).sum()), int((right_b & ~right_a).sum())
    p = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {"only_baseline_right": only_a, "only_this_right": only_b, "mcnemar_p": float(p)}


def score_rows(right: dict[str, np.ndarray], subsets: dict[str, list[int]]) -> dict:
    """Per subset: n, and per model its accuracy and (after the first) the paired comparison with the first."""
    names = list(right)
    rows = {}
    for sub, idx in subsets.items():
        idx = np.array(idx, dtype=int)
        rows[sub] = {"n": len(idx), "models": {
            n: {"score": float(right[n][idx].mean()) if len(idx) else float("nan")}
            | (paired(right[names[0]][idx], right[n][idx]) if k else {}) for k, n in enumerate(names)}}
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["runs/default/model"],
                        help="models to compare; the first is also scored reading every sentence alone "
                             "(a window of one), which is the baseline every other column is compared with")
    parser.add_argument("--test", default="data/corpus/test.jsonl")
    parser.add_argument("--challenge", default="data/corpus/context_challenge")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="results")
    parser.add_argument("--name", default="context", help="report file names: OUT/NAME.md and OUT/NAME.json")
    ns = parser.parse_args()

    systems = {}
    for k, path in enumerate(ns.models):
        clf = StanceClassifier.from_pretrained(path)
        if k == 0:
            systems[f"{system_name(clf, path)}, each sentence alone"] = Alone(clf)
        name = f"{system_name(clf, path)}, windows of {clf.window_tokens} tokens"
        if name in systems:  # two runs of one config (an older model kept under another folder)
            name += f" [{os.path.relpath(path)}]"
        systems[name] = clf
    names = list(systems)
    sets = {"bundled test": read_records(ns.test)}
    subsets = {"bundled test": {"all": list(range(len(sets["bundled test"])))} | bundled_subsets(sets["bundled test"])}
    for part in ("dev", "test", "test2"):
        path = os.path.join(ns.challenge, f"{part}.jsonl")
        if os.path.isfile(path) and os.path.getsize(path):
            sets[f"context challenge {part}"] = read_records(path)
            subsets[f"context challenge {part}"] = challenge_subsets(sets[f"context challenge {part}"])
    try:
        polnear = load_real_news_set("polnear-test", ns.data_dir)
    except FileNotFoundError:
        polnear = None
        print("PolNeAR not found: skipping PolNeAR test", file=sys.stderr)

    results, macro_f1 = {}, {}
    for set_name, records in sets.items():
        # the document model reads each sentence in its article (doc/i); Alone reads it alone
        preds = {n: predict_labels_and_probs(clf, [r["text"] for r in records], records)[0] for n, clf in systems.items()}
        gold = [r["label"] for r in records]
        results[set_name] = score_rows({n: np.array([p == g for p, g in zip(preds[n], gold)]) for n in names},
                                       subsets[set_name])
        macro_f1[set_name] = {n: classification_scores(gold, preds[n])["macro_f1"] for n in names}

    if polnear is not None:
        gold = np.array([r["gold"] == "attributed" for r in polnear])
        outside = [k for k, r in enumerate(polnear) if r["gold"] == "attributed" and not r["source"] and not r["cue"]]
        pred = {n: np.array([p == "attributed_statement" for p in
                             predict_labels_and_probs(clf, [r["text"] for r in polnear], polnear)[0]]) for n, clf in systems.items()}
        # recall on the sentences whose source and cue lie in another sentence; attributed F1 on all
        results["PolNeAR test (held out)"] = score_rows({n: pred[n] == gold for n in names},
                                                        {"source and cue in another sentence (recall)": outside})
        macro_f1["PolNeAR test (held out)"] = {
            n: {"attributed F1": binary_scores(gold, pred[n])["f1"], "ci95": bootstrap_ci(gold, pred[n], "f1", 1000)}
            for n in names}

    lines = ["| set | subset | n | " + " | ".join(names) + " | " + " | ".join(
        f"{n}: only baseline right / only this right (McNemar p)" for n in names[1:]) + " |",
        "|---|---|---|" + "---|" * (2 * len(names) - 1)]
    for set_name, rows in results.items():
        for sub, row in rows.items():
            m = row["models"]
            lines.append(f"| {set_name} | {sub} | {row['n']} | " + " | ".join(f"{m[n]['score']:.3f}" for n in names)
                         + " | " + " | ".join(f"{m[n]['only_baseline_right']} / {m[n]['only_this_right']} "
                                              f"({m[n]['mcnemar_p']:.3g})" for n in names[1:]) + " |")
    lines.append("")
    for set_name, by_model in macro_f1.items():
        if set_name.startswith("PolNeAR"):
            cells = [f"{n} {v['attributed F1']:.3f} [{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}]" for n, v in by_model.items()]
            lines.append(f"- {set_name}, attributed F1: " + "; ".join(cells))
        else:
            lines.append(f"- {set_name}, three-way macro-F1: " + "; ".join(f"{n} {v:.3f}" for n, v in by_model.items()))
    lines += ["", "Cells are accuracy on the subset (PolNeAR: recall of attributed_statement). The baseline is the "
              "first model. Produced by `python scripts/compare_context.py` on "
              f"{datetime.date.today().isoformat()}."]
    print("\n".join(lines))
    os.makedirs(ns.out, exist_ok=True)
    with open(os.path.join(ns.out, f"{ns.name}.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(ns.out, f"{ns.name}.json"), "w", encoding="utf-8") as f:
        json.dump({"models": dict(zip(names, ns.models)), "results": results, "macro_f1": macro_f1}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
