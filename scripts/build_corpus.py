#!/usr/bin/env python3
"""Build the bundled corpus from its hand-written sources.

Reads  data/corpus/source/w*.jsonl      (articles, one per line, see check_corpus_source.py)
       data/corpus/source/pairs_*.jsonl (minimal-pair groups)
Writes data/corpus/articles/<doc>.txt   (headline, blank line, paragraphs separated by blank lines)
       data/corpus/{train,dev,test}.jsonl  (one sentence per line, offsets into the article)
       data/corpus/minimal_pairs.jsonl  (groups with their split)
       data/corpus/stats.json           (the counts the datasheet quotes)
Also   data/corpus/source/ctx1.jsonl, ctx2.jsonl, ctx3.jsonl (the context challenge set: articles whose
                                         labels depend on neighbouring sentences, LABELS.md rules 11 and 12)
    -> data/corpus/context_challenge/{dev,test,test2}.jsonl (evaluation only, never in a training split:
       dev was read to diagnose models; test and test2 were written afterwards and are only scored)
       data/corpus/source/ctxtrain*.jsonl (articles rich in multi-sentence quotes and pronoun sources)
    -> data/corpus/context_train.jsonl   (a training-only supplement, named by configs in
                                          extra_train_files; no dev or test part of its own)
       data/corpus/source/genre*.jsonl    (wire briefs, market copy, sport, culture, obituaries,
                                          weather, results, schedules: genres the splits lack)
    -> data/corpus/genre_train.jsonl     (a second training-only supplement, like context_train;
                                          kept out of w*.jsonl so that adding to it never reshuffles
                                          the article split)

Splits are by article (and by pair group), about 70/15/15, stratified by domain
and register (pairs: by domain and kind), deterministic for a given seed.
The output is deterministic, so rebuilding an unchanged source changes nothing.
"""

import argparse
import collections
import glob
import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from check_corpus_source import check_article, check_pair  # noqa: E402

from stancelib.data import check_disjoint, find_span, load_minimal_pairs, read_records  # noqa: E402
from stancelib.labels import LABELS  # noqa: E402

SPLITS = ("train", "dev", "test")
CHALLENGE = {"dev": "ctx1.jsonl", "test": "ctx2.jsonl", "test2": "ctx3.jsonl"}
SUPPLEMENT = "ctxtrain*.jsonl"
GENRE = "genre*.jsonl"
# 20 slots: 14 train, 3 dev, 3 test, interleaved so each stratum's share is even
PATTERN = ["train", "train", "dev", "train", "train", "test", "train", "train", "train", "dev",
           "train", "train", "test", "train", "train", "dev", "train", "train", "test", "train"]


def read_sources(pattern):
    items = []
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    items.append((f"{path}:{lineno}", json.loads(line)))
    return items


def assign_splits(items, key, seed):
    """Map item id -> split, stratified by ``key(item)``, interleaving the pattern across strata."""
    rng = random.Random(seed)
    strata = collections.defaultdict(list)
    for ident, item in items:
        strata[key(item)].append(ident)
    out, offset = {}, 0
    for stratum in sorted(strata):
        idents = sorted(strata[stratum])
        rng.shuffle(idents)
        for ident in idents:
            out[ident] = PATTERN[offset % len(PATTERN)]
            offset += 1
    return out


def span(value, text):
    if not value:
        return None
    start = find_span(value, text)
    return {"start": start, "end": start + len(value), "text": value}


def build_article(art):
    """Return (article_text, sentence_records) with exact offsets."""
    parts, records, pos, i = [], [], 0, 0
    for p, par in enumerate(art["paragraphs"]):
        if p:
            parts.append("\n\n")
            pos += 2
        for s, sent in enumerate(par):
            if s:
                parts.append(" ")
                pos += 1
            text = sent["text"]
            records.append({
                "doc": art["doc"], "i": i, "start": pos, "end": pos + len(text), "text": text,
                "label": sent["label"], "source": span(sent["source"], text), "cue": span(sent["cue"], text),
                "hard": sent["hard"] or "", "paragraph": p, "domain": art["domain"], "register": art["register"],
            })
            parts.append(text)
            pos += len(text)
            i += 1
    return "".join(parts) + "\n", records


def article_rows(items):
    """The sentence records of a set of articles, in document order."""
    return [r for _, art in sorted(items, key=lambda x: x[1]["doc"]) for r in build_article(art)[1]]


def article_set_stats(n_articles, rows):
    labels = collections.Counter(r["label"] for r in rows)
    return {"articles": n_articles, "sentences": len(rows), "labels": {lab: labels[lab] for lab in LABELS},
            "rules": dict(sorted(collections.Counter(r["hard"].split(":")[0] for r in rows if r["hard"]).items()))}


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="data/corpus")
    parser.add_argument("--seed", type=int, default=13)
    ns = parser.parse_args()
    src = os.path.join(ns.corpus, "source")

    articles = read_sources(os.path.join(src, "w*.jsonl"))
    pairs = read_sources(os.path.join(src, "pairs_*.jsonl"))
    challenge = {part: read_sources(os.path.join(src, name)) for part, name in CHALLENGE.items()}
    supplement = read_sources(os.path.join(src, SUPPLEMENT))
    genre = read_sources(os.path.join(src, GENRE))
    problems = [msg for where, art in articles + supplement + genre + sum(challenge.values(), [])
                for msg in check_article(art, where)]
    docs = collections.Counter(art["doc"] for _, art in articles + supplement + genre + sum(challenge.values(), []))
    problems += [f"doc id {doc} is used {n} times" for doc, n in sorted(docs.items()) if n > 1]
    problems += [msg for where, pair in pairs for msg in check_pair(pair, where)]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1

    art_split = assign_splits([(a["doc"], a) for _, a in articles], lambda a: (a["domain"], a["register"]), ns.seed)
    pair_split = assign_splits([(p["group"], p) for _, p in pairs], lambda p: (p["domain"], p["kind"]), ns.seed)

    art_dir = os.path.join(ns.corpus, "articles")
    shutil.rmtree(art_dir, ignore_errors=True)
    os.makedirs(art_dir)
    rows = {name: [] for name in SPLITS}
    for _, art in sorted(articles, key=lambda x: x[1]["doc"]):
        text, records = build_article(art)
        with open(os.path.join(art_dir, f"{art['doc']}.txt"), "w", encoding="utf-8") as f:
            f.write(text)
        rows[art_split[art["doc"]]].extend(records)
    for name in SPLITS:
        write_jsonl(os.path.join(ns.corpus, f"{name}.jsonl"), rows[name])
    pair_rows = [{**p, "split": pair_split[p["group"]]} for _, p in sorted(pairs, key=lambda x: x[1]["group"])]
    write_jsonl(os.path.join(ns.corpus, "minimal_pairs.jsonl"), pair_rows)
    challenge_dir = os.path.join(ns.corpus, "context_challenge")
    os.makedirs(challenge_dir, exist_ok=True)
    for part, items in challenge.items():
        write_jsonl(os.path.join(challenge_dir, f"{part}.jsonl"), article_rows(items))
    supplement_path = os.path.join(ns.corpus, "context_train.jsonl")
    write_jsonl(supplement_path, article_rows(supplement))
    genre_path = os.path.join(ns.corpus, "genre_train.jsonl")
    write_jsonl(genre_path, article_rows(genre))

    # the project's own loaders must accept what was written, and no sentence may cross splits
    loaded = {name: read_records(os.path.join(ns.corpus, f"{name}.jsonl")) for name in SPLITS}
    pairs_path = os.path.join(ns.corpus, "minimal_pairs.jsonl")
    ctx_rows = {part: read_records(os.path.join(challenge_dir, f"{part}.jsonl")) for part in CHALLENGE}
    supplement_rows = read_records(supplement_path)
    genre_rows = read_records(genre_path)
    # the supplements are training data: they share the train split's side of the check
    check_disjoint({name: loaded[name] + load_minimal_pairs(pairs_path, name)
                    + (supplement_rows + genre_rows if name == "train" else [])
                    for name in SPLITS}
                   | {f"context challenge {part}": rows_ for part, rows_ in ctx_rows.items()})

    stats = {"articles": len(articles), "sentences": sum(len(r) for r in rows.values()),
             "minimal_pair_groups": len(pairs), "splits": {}}
    for name in SPLITS:
        labels = collections.Counter(r["label"] for r in rows[name])
        stats["splits"][name] = {
            "articles": len({r["doc"] for r in rows[name]}), "sentences": len(rows[name]),
            "labels": {lab: labels[lab] for lab in LABELS},
            "hard": sum(1 for r in rows[name] if r["hard"]),
            "minimal_pair_groups": sum(1 for p in pair_rows if p["split"] == name),
        }
    everything = [r for name in SPLITS for r in rows[name]]
    labels = collections.Counter(r["label"] for r in everything)
    stats["labels"] = {lab: {"n": labels[lab], "share": round(labels[lab] / len(everything), 4)} for lab in LABELS}
    stats["domains"] = dict(sorted(collections.Counter(a["domain"] for _, a in articles).items()))
    stats["registers"] = dict(sorted(collections.Counter(a["register"] for _, a in articles).items()))
    stats["pair_kinds"] = dict(sorted(collections.Counter(p["kind"] for _, p in pairs).items()))
    stats["hard_sentences"] = sum(1 for r in everything if r["hard"])
    stats["context_challenge"] = {part: article_set_stats(len(challenge[part]), part_rows) for part, part_rows in ctx_rows.items()}
    stats["context_train"] = article_set_stats(len(supplement), supplement_rows)
    stats["genre_train"] = article_set_stats(len(genre), genre_rows)
    stats["genre_train"]["domains"] = dict(sorted(collections.Counter(a["domain"] for _, a in genre).items()))
    stats["genre_train"]["registers"] = dict(sorted(collections.Counter(a["register"] for _, a in genre).items()))
    with open(os.path.join(ns.corpus, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=2)
        f.write("\n")
    print(json.dumps({k: stats[k] for k in ("articles", "sentences", "minimal_pair_groups", "labels")}, indent=1))
    for name in SPLITS:
        print(name, stats["splits"][name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
