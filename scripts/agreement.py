#!/usr/bin/env python3
"""Agreement between the corpus labels and a blind second annotation.

Usage: agreement.py SECOND.jsonl [SECOND.jsonl ...] [--sources 'data/corpus/source/*.jsonl']
                    [--disagreements OUT.jsonl] [--json OUT.json]

SECOND files hold {"id", "label"} lines (ids as written by sample_second_annotation.py).
The first annotation is read from the corpus sources *as they are now*, so run it on the
sources as they stood at sampling time to get the pre-adjudication figure.
Prints Cohen's kappa overall and per label (that label against the rest), raw agreement,
and the confusion matrix; optionally writes the disagreements for adjudication.
"""

import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sklearn.metrics import cohen_kappa_score, confusion_matrix  # noqa: E402

from stancelib.labels import LABELS  # noqa: E402


def first_labels(pattern):
    out = {}
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                row = json.loads(line)
                if "group" in row:
                    for member, label in (("neutral", LABELS[0]), ("attributed", LABELS[1]), ("unattributed", LABELS[2])):
                        out[f"{row['group']}:{member}"] = (label, row[member])
                else:
                    sents = [s for par in row["paragraphs"] for s in par]
                    for i, s in enumerate(sents):
                        out[f"{row['doc']}:{i}"] = (s["label"], s["text"])
    return out


def agreement(pairs):
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    report = {
        "n": len(pairs),
        "raw_agreement": sum(x == y for x, y in pairs) / len(pairs),
        "kappa": cohen_kappa_score(a, b, labels=list(LABELS)),
        "kappa_per_label": {lab: cohen_kappa_score([x == lab for x in a], [y == lab for y in b]) for lab in LABELS},
        "confusion_first_rows_second_cols": confusion_matrix(a, b, labels=list(LABELS)).tolist(),
    }
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("second", nargs="+")
    parser.add_argument("--sources", default="data/corpus/source/*.jsonl")
    parser.add_argument("--disagreements")
    parser.add_argument("--json")
    ns = parser.parse_args()
    first = first_labels(ns.sources)
    pairs, disagreements = [], []
    for path in ns.second:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                row = json.loads(line)
                label, text = first[row["id"]]
                pairs.append((label, row["label"]))
                if label != row["label"]:
                    disagreements.append({"id": row["id"], "text": text, "first": label, "second": row["label"],
                                          "second_note": row.get("note", "")})
    report = agreement(pairs)
    print(f"n={report['n']}  raw agreement {report['raw_agreement']:.3f}  Cohen's kappa {report['kappa']:.3f}")
    for lab, k in report["kappa_per_label"].items():
        print(f"  kappa {lab:22s} {k:.3f}")
    print("  confusion (rows: first annotation, columns: second):", report["confusion_first_rows_second_cols"])
    if ns.disagreements:
        with open(ns.disagreements, "w", encoding="utf-8") as f:
            for d in disagreements:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
    if ns.json:
        with open(ns.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
