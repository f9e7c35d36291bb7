#!/usr/bin/env python3
"""Draw a blind sample of corpus sentences for a second, independent annotation.

Writes items with an id and the sentence's context (headline, previous and
next sentence) but NO label, source or cue, so the second annotator works
blind to the first. Usage:
  sample_second_annotation.py OUT.jsonl SOURCE.jsonl [SOURCE.jsonl ...] [--fraction 0.11] [--seed 5]
"""

import argparse
import json
import random


def article_items(art):
    sents = [s for par in art["paragraphs"] for s in par]
    headline = sents[0]["text"]
    for i, s in enumerate(sents):
        yield {
            "id": f"{art['doc']}:{i}", "headline": headline,
            "previous": sents[i - 1]["text"] if i > 0 else None, "sentence": s["text"],
            "next": sents[i + 1]["text"] if i + 1 < len(sents) else None,
        }


def pair_items(pair):
    for member in ("neutral", "attributed", "unattributed"):
        yield {"id": f"{pair['group']}:{member}", "headline": None, "previous": None, "sentence": pair[member], "next": None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--fraction", type=float, default=0.11)
    parser.add_argument("--seed", type=int, default=5)
    ns = parser.parse_args()
    rng = random.Random(ns.seed)
    chosen = []
    for path in ns.sources:
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        items = [it for row in rows for it in (pair_items(row) if "group" in row else article_items(row))]
        chosen += rng.sample(items, round(len(items) * ns.fraction))
    rng.shuffle(chosen)
    with open(ns.out, "w", encoding="utf-8") as f:
        for it in chosen:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} items -> {ns.out}")


if __name__ == "__main__":
    main()
