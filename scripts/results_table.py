#!/usr/bin/env python3
"""The results table: every model beside both baselines on the bundled test split (each sentence
read in its article, and alone), on the real-news dev part (the project's own three-way labels of
real news: the instrument for model decisions) and on the held-out real news sets (PolNeAR test,
CheckThat! dev_test, BABE Reuters: binary views, reported, never tuned on).

Usage: python scripts/results_table.py [--models runs/default/model runs/news-mix/model]
                                       [--data-dir ../shared/data] [--out results]
Writes OUT/results.json and OUT/results.md (the table the README quotes), prints the table,
and records each model's real-news scores in its metadata and model card.
"""

import argparse
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from stancelib.data import load_minimal_pairs, read_records  # noqa: E402
from stancelib.corpora import load_real_news  # noqa: E402
from stancelib.evaluation import (  # noqa: E402
    REAL_NEWS_SETS, baseline_systems, classification_scores, evaluate_real_news, evaluate_system, real_news_dev_scores,
    record_model_metadata, system_name,
)
from stancelib.labels import LABELS  # noqa: E402
from stancelib.modeling import StanceClassifier  # noqa: E402


def ci(sc, metric):
    lo, hi = sc[f"{metric}_ci95"]
    return f"{sc[metric]:.3f} [{lo:.2f}, {hi:.2f}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=[m for m in ("runs/default/model", "runs/news-mix/model") if os.path.isdir(m)])
    parser.add_argument("--data-dir", default=None, help="real news corpora (default $STANCELIB_DATA or ../shared/data)")
    parser.add_argument("--test", default="data/corpus/test.jsonl")
    parser.add_argument("--pairs", default="data/corpus/minimal_pairs.jsonl")
    parser.add_argument("--train", default="data/corpus/train.jsonl", help="what the TF-IDF baseline is fitted on")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--out", default="results")
    ns = parser.parse_args()

    train = read_records(ns.train) + load_minimal_pairs(ns.pairs, "train")
    systems = baseline_systems(train)
    models = {}
    for path in ns.models:
        clf = StanceClassifier.from_pretrained(path)
        models[system_name(clf, path)] = (clf, path)
        systems[system_name(clf, path)] = clf

    test = read_records(ns.test)
    test_pairs = load_minimal_pairs(ns.pairs, "test")
    bundled = {name: evaluate_system(system, test, test_pairs) for name, system in systems.items()}
    alone = {name: classification_scores([r["label"] for r in test], list(system.predict([r["text"] for r in test])))
             for name, system in systems.items()}
    real_dev_records = load_real_news("dev", ns.data_dir)
    real_dev = {name: real_news_dev_scores(system, real_dev_records) for name, system in systems.items()}
    real = evaluate_real_news(systems, list(REAL_NEWS_SETS), ns.data_dir, ns.resamples)

    header = ("| system | bundled test macro-F1 (in article / alone) | bundled test minimal pairs acc "
              "| real-news dev macro-F1 | real-news dev F1 neutral / attributed / unattributed "
              "| real-news dev: neutral called claim | real-news dev ECE "
              "| PolNeAR test: attributed F1 | CheckThat dev_test: SUBJ recall | CheckThat dev_test: unattributed F1 "
              "| BABE Reuters: factual flagged unattributed |")
    lines = [header, "|---" * 11 + "|"]
    for name in systems:
        pol, ct, babe = (real[s][name] for s in ("polnear-test", "checkthat-dev_test", "babe-reuters"))
        rd = real_dev[name]
        ece = f"{rd['ece']:.3f}" if "ece" in rd else "-"
        lines.append(f"| {name} | {bundled[name]['macro_f1']:.3f} / {alone[name]['macro_f1']:.3f} "
                     f"| {bundled[name]['minimal_pairs']['accuracy']:.3f} | {rd['macro_f1']:.3f} | "
                     + " / ".join(f"{rd['per_class'][n]['f1']:.3f}" for n in LABELS)
                     + f" | {rd['neutral_called_claim']:.1%} | {ece} "
                     f"| {ci(pol, 'f1')} | {ct['recall']:.3f} | {ci(ct, 'f1')} | {babe['false_positive_rate']:.3f} |")
    sizes = {s: (next(iter(r.values()))["n"], next(iter(r.values()))["positives"]) for s, r in real.items()}
    notes = [
        "",
        f"Sets: bundled test split ({len(test)} sentences, {len(test_pairs) // 3} minimal-pair groups); real-news dev "
        f"part ({len(real_dev_records)} sentences of PolNeAR dev articles, CheckThat! dev, NewsSD, BABE non-Reuters, "
        "labelled three-way to LABELS.md by the project: data/real_news/); "
        + "; ".join(f"{s} ({n} sentences, {p} positive)" for s, (n, p) in sizes.items())
        + ". Square brackets: bootstrap 95% intervals over sentences "
        f"({ns.resamples} resamples). Binary scores are derived from the three-way prediction "
        "(attributed_statement vs the rest; unattributed_claim vs the rest). BABE Reuters holds almost only "
        "'Entirely factual' sentences, so its column is the share of them predicted unattributed (lower is better).",
        f"Produced by `python scripts/results_table.py` on {datetime.date.today().isoformat()}; the TF-IDF baseline "
        f"is fitted on `{ns.train}` plus the train minimal pairs.",
    ]
    table = "\n".join(lines + notes)
    os.makedirs(ns.out, exist_ok=True)
    with open(os.path.join(ns.out, "results.md"), "w", encoding="utf-8") as f:
        f.write(table + "\n")
    with open(os.path.join(ns.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"bundled_test": bundled, "bundled_test_alone": alone, "real_news_dev_part": real_dev, "real_news": real, "models": {n: p for n, (_, p) in models.items()}}, f, indent=2)
    for name, (clf, path) in models.items():
        clf.metadata["real_news"] = {"date": datetime.date.today().isoformat(),
                                     "scores": {s: {k: real[s][k] for k in real[s]} for s in real},
                                     "table": table}
        record_model_metadata(clf, path)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
