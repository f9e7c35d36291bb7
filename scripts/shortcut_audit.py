#!/usr/bin/env python3
"""Shortcut audit: how well do surface features ALONE predict the bundled corpus's labels?

Trains scikit-learn classifiers (logistic regression and a depth-4 decision tree) on the
train split, one surface feature at a time and all of them together, and scores them on
the test split (macro-F1 and per-label F1), next to two chance baselines (majority class,
stratified random, averaged over 20 seeds). A feature "predicts a label beyond chance"
when its per-label F1 beats the better of the two baselines' F1 for that label by more than
``MARGIN``.

Article features: sentence length in words, clause count (commas and conjunctions),
position in the article (index, relative index, first / last), a trailing comma clause,
the article's register and domain, a quote mark, sentence-final "said".
Minimal pairs are audited separately (they have no position, register or domain):
length, clause count, trailing clause, quote mark, final "said", and the member's length
relative to its group's neutral member (the appended-clause habit).

Usage:
  shortcut_audit.py [--corpus data/corpus] [--ref GITREV] [--out results/shortcut_audit.md]
With --ref the same audit runs on the corpus as committed at GITREV ("before") and on the
working tree ("after"), and both go into the results file.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

LABELS = ("neutral_report", "attributed_statement", "unattributed_claim")
SHORT = {"neutral_report": "N", "attributed_statement": "A", "unattributed_claim": "U"}
MARGIN = 0.10
CONJ = re.compile(r"\b(and|but|while|although|though|because|which|who|whereas|after|before|when|as)\b", re.I)
QUOTE = re.compile("[\"\u201c\u201d]")
FINAL_SAID = re.compile(r"\bsaid\W*$", re.I)
WORDS = re.compile(r"\S+")

ARTICLE_FEATURES = {
    "length (words)": ["n_words"],
    "clause count": ["n_clauses"],
    "position (index, relative, first, last)": ["index", "rel_index", "is_first", "is_last"],
    "trailing comma clause": ["trailing_clause"],
    "register": ["register"],
    "domain": ["domain"],
    "quote mark": ["quote"],
    "sentence-final said": ["final_said"],
}
PAIR_FEATURES = {
    "length (words)": ["n_words"],
    "clause count": ["n_clauses"],
    "trailing comma clause": ["trailing_clause"],
    "quote mark": ["quote"],
    "sentence-final said": ["final_said"],
    "length minus the group's neutral member": ["extra_words"],
}
CATEGORICAL = {"register", "domain"}
SUPPLEMENTS = ("context_train.jsonl", "genre_train.jsonl")


def surface(text):
    words = WORDS.findall(text)
    tail = text.rsplit(",", 1)[1] if "," in text else ""
    tail_words = len(WORDS.findall(tail))
    return {
        "n_words": len(words),
        "n_clauses": text.count(",") + text.count(";") + len(CONJ.findall(text)),
        "trailing_clause": int(2 <= tail_words <= 12),
        "quote": int(bool(QUOTE.search(text))),
        "final_said": int(bool(FINAL_SAID.search(text.rstrip('"\u201d')))),
    }


def article_table(rows):
    n_in_doc = collections.Counter(r["doc"] for r in rows)
    out = []
    for r in rows:
        n = n_in_doc[r["doc"]]
        out.append({**surface(r["text"]), "index": r["i"], "rel_index": r["i"] / max(n - 1, 1),
                    "is_first": int(r["i"] == 0), "is_last": int(r["i"] == n - 1),
                    "register": r["register"], "domain": r["domain"], "label": r["label"]})
    return out


def pair_table(groups):
    out = []
    for g in groups:
        base = len(WORDS.findall(g["neutral"])) if g.get("neutral") else None
        for label in LABELS:
            text = g.get(label.split("_")[0])
            if not text:
                continue
            feats = surface(text)
            feats["extra_words"] = feats["n_words"] - base if base is not None else 0
            out.append({**feats, "label": label})
    return out


def fit_score(train, test, cols, model):
    cat = [c for c in cols if c in CATEGORICAL]
    num = [c for c in cols if c not in CATEGORICAL]
    def matrix(rows):
        return np.array([[r[c] for c in cols] for r in rows], dtype=object)
    steps = []
    if cat:
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), [cols.index(c) for c in cat]))
    if num:
        steps.append(("num", StandardScaler(), [cols.index(c) for c in num]))
    clf = (LogisticRegression(max_iter=2000) if model == "lr"
           else DecisionTreeClassifier(max_depth=4, random_state=0))
    pipe = make_pipeline(ColumnTransformer(steps), clf)
    pipe.fit(matrix(train), [r["label"] for r in train])
    pred = pipe.predict(matrix(test))
    gold = [r["label"] for r in test]
    return scores(gold, pred)


def scores(gold, pred):
    per = f1_score(gold, pred, labels=list(LABELS), average=None, zero_division=0)
    return {"macro": float(np.mean(per)), **{lab: float(f) for lab, f in zip(LABELS, per)}}


def chance(train, test):
    gold = [r["label"] for r in test]
    y = [r["label"] for r in train]
    major = DummyClassifier(strategy="most_frequent").fit([[0]] * len(y), y).predict([[0]] * len(gold))
    strat = [scores(gold, DummyClassifier(strategy="stratified", random_state=s).fit([[0]] * len(y), y)
                    .predict([[0]] * len(gold))) for s in range(20)]
    return scores(gold, major), {k: float(np.mean([s[k] for s in strat])) for k in strat[0]}


def audit(train, test, features):
    major, strat = chance(train, test)
    rows = [("chance: majority class", "", major), ("chance: stratified random (20 seeds)", "", strat)]
    for name, cols in list(features.items()) + [("ALL features together", sum(features.values(), []))]:
        for model in ("lr", "tree"):
            rows.append((name, model, fit_score(train, test, cols, model)))
    return rows, {lab: max(major[lab], strat[lab]) for lab in LABELS}


def beyond(result, base):
    return [SHORT[lab] for lab in LABELS if result[lab] - base[lab] > MARGIN]


def table(rows, strat):
    lines = ["| feature | model | macro-F1 | F1 N | F1 A | F1 U | beats chance (>+0.10 F1) on |",
             "|---|---|---|---|---|---|---|"]
    for name, model, r in rows:
        flag = "" if not model else (", ".join(beyond(r, strat)) or "-")
        lines.append(f"| {name} | {model} | {r['macro']:.3f} | {r['neutral_report']:.3f} | "
                     f"{r['attributed_statement']:.3f} | {r['unattributed_claim']:.3f} | {flag} |")
    return "\n".join(lines)


def read_jsonl_text(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load(corpus, ref=None):
    def read(name):
        path = os.path.join(corpus, name)
        if ref:
            return read_jsonl_text(subprocess.run(["git", "show", f"{ref}:{path}"], check=True,
                                                  capture_output=True, text=True).stdout)
        with open(path, encoding="utf-8") as f:
            return read_jsonl_text(f.read())
    rows = {s: read(f"{s}.jsonl") for s in ("train", "test")}
    # the training-only supplements the recipes train on count as training data (absent at older revisions)
    for name in SUPPLEMENTS:
        try:
            rows["train"] += read(name)
        except (OSError, subprocess.CalledProcessError):
            pass
    pairs = read("minimal_pairs.jsonl")
    return rows, pairs


def run(corpus, ref):
    rows, pairs = load(corpus, ref)
    art = audit(article_table(rows["train"]), article_table(rows["test"]), ARTICLE_FEATURES)
    pr = audit(pair_table([p for p in pairs if p["split"] == "train"]),
               pair_table([p for p in pairs if p["split"] == "test"]), PAIR_FEATURES)
    n = {"train sentences (split + supplements)": len(rows["train"]), "test sentences": len(rows["test"]),
         "train pair groups": sum(p["split"] == "train" for p in pairs),
         "test pair groups": sum(p["split"] == "test" for p in pairs)}
    return art, pr, n


def section(title, result):
    art, pr, n = result
    counts = ", ".join(f"{k} {v}" for k, v in n.items())
    return (f"## {title}\n\n{counts}\n\n### Article sentences (train split -> test split)\n\n{table(*art)}\n\n"
            f"### Minimal-pair members (train groups -> test groups)\n\n{table(*pr)}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="data/corpus")
    parser.add_argument("--ref", help="git revision for the 'before' audit")
    parser.add_argument("--out", default="results/shortcut_audit.md")
    parser.add_argument("--notes", help="a markdown file appended after the tables (what was done per feature)")
    ns = parser.parse_args()
    parts = ["# Shortcut audit of the bundled corpus\n",
             "Written by `scripts/shortcut_audit.py`. Each surface feature alone (and all together) is fed to a "
             "logistic regression (`lr`) and a depth-4 decision tree (`tree`) trained on what the recipes train "
             "on (the train split and the training-only supplements) and scored on the test split. N/A/U = neutral_report / attributed_statement / unattributed_claim. "
             "The last column lists the labels whose F1 beats the better chance baseline (majority or stratified) by more than "
             f"{MARGIN:.2f}.\n"]
    if ns.ref:
        parts.append(section(f"Before (corpus at {ns.ref})", run(ns.corpus, ns.ref)))
    parts.append(section("After (working tree)" if ns.ref else "Current corpus", run(ns.corpus, None)))
    if ns.notes:
        with open(ns.notes, encoding="utf-8") as f:
            parts.append(f.read())
    os.makedirs(os.path.dirname(ns.out) or ".", exist_ok=True)
    with open(ns.out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    print("\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
