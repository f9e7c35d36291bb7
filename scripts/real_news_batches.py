"""Choose the real-news sentences to annotate (trainable splits only) and write annotation batches.

The batches hold corpus text, so they go to a folder OUTSIDE the repository (``--out``,
default ``/tmp/stancelib-annotation``); only references (ids, offsets, hashes) and the
labels given to them are ever committed (``scripts/build_real_news_refs.py``).

Selection, fixed by ``--seed``:
- PolNeAR: whole articles of 1,500-6,000 characters, ``--polnear-train`` from ``train/`` (train
  part) and ``--polnear-dev`` from ``dev/`` (dev part), drawn evenly across outlets;
- CheckThat!: rows of ``train_en`` (train part) and ``dev_en`` (dev part);
- NewsSD-ENG: rows whose text is not among the CheckThat! rows chosen; dev part when the text is
  a CheckThat! ``dev_en`` sentence, train part otherwise; never one of ``dev_test_en``;
- BABE SG2: rows of outlets other than Reuters, split into parts by article link.
Every sentence gets an id (``stancelib.corpora.references`` reads the same locators back).

    python scripts/real_news_batches.py --out /tmp/stancelib-annotation
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from stancelib.corpora.references import iter_locatable, text_hash  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="/tmp/stancelib-annotation")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--polnear-train", type=int, default=52)
    ap.add_argument("--polnear-dev", type=int, default=11)
    ap.add_argument("--checkthat-train", type=int, default=450)
    ap.add_argument("--checkthat-dev", type=int, default=170)
    ap.add_argument("--newssd-train", type=int, default=150)
    ap.add_argument("--newssd-dev", type=int, default=70)
    ap.add_argument("--babe-train", type=int, default=600)
    ap.add_argument("--babe-dev", type=int, default=150)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--second-share", type=float, default=0.16)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pool = iter_locatable(args.data_dir)  # {corpus: [item, ...]}, items carry text and locator

    chosen: list[dict] = []
    # PolNeAR: whole articles, spread over outlets
    for split, n in (("train", args.polnear_train), ("dev", args.polnear_dev)):
        docs = sorted({(it["doc"], it["doc_chars"]) for it in pool["polnear"] if it["split"] == split})
        docs = [d for d, chars in docs if 1500 <= chars <= 6000]
        by_outlet: dict[str, list[str]] = {}
        for d in docs:
            by_outlet.setdefault(d.split("_")[0], []).append(d)
        picked = []
        outlets = sorted(by_outlet)
        for lst in by_outlet.values():
            rng.shuffle(lst)
        while len(picked) < n and any(by_outlet.values()):
            for o in outlets:
                if by_outlet[o] and len(picked) < n:
                    picked.append(by_outlet[o].pop())
        keep = set(picked)
        chosen += [it | {"part": "dev" if split == "dev" else "train"}
                   for it in pool["polnear"] if it["split"] == split and it["doc"] in keep]

    def sample(items, n):
        items = list(items)
        rng.shuffle(items)
        return items[:n]

    ct = pool["checkthat"]
    ct_train = sample([it for it in ct if it["split"] == "train"], args.checkthat_train)
    ct_dev = sample([it for it in ct if it["split"] == "dev"], args.checkthat_dev)
    chosen += [it | {"part": "train"} for it in ct_train] + [it | {"part": "dev"} for it in ct_dev]
    taken = {it["key"] for it in ct_train + ct_dev}
    dev_keys = {it["key"] for it in ct if it["split"] == "dev"}
    held = {it["key"] for it in ct if it["split"] == "dev_test"}
    ns = [it for it in pool["newssd"] if it["key"] not in taken and it["key"] not in held]
    chosen += [it | {"part": "train"} for it in sample([it for it in ns if it["key"] not in dev_keys], args.newssd_train)]
    chosen += [it | {"part": "dev"} for it in sample([it for it in ns if it["key"] in dev_keys], args.newssd_dev)]
    # BABE: one part per article link, so no article is in both parts
    babe = [it for it in pool["babe"] if it["outlet"].lower() != "reuters"]
    links = sorted({it["doc"] for it in babe})
    rng.shuffle(links)
    dev_links = set(links[: len(links) // 5])
    chosen += [it | {"part": "train"} for it in sample([it for it in babe if it["doc"] not in dev_links], args.babe_train)]
    chosen += [it | {"part": "dev"} for it in sample([it for it in babe if it["doc"] in dev_links], args.babe_dev)]

    # a text appears once: the first locator wins (the adapters' duplicates across corpora)
    seen, unique = set(), []
    for it in chosen:
        if it["key"] not in seen:
            seen.add(it["key"])
            unique.append(it)

    # units: a PolNeAR article, or a row; batches of about equal size, corpora mixed
    units: dict[str, list[dict]] = {}
    for it in unique:
        units.setdefault(it["doc"] if it["corpus"] == "polnear" else it["id"], []).append(it)
    names = sorted(units)
    rng.shuffle(names)
    n_total = len(unique)
    second, n_second = [], 0
    for name in names:  # blind second annotation: whole units, about --second-share of all sentences
        if n_second < args.second_share * n_total:
            second.append(name)
            n_second += len(units[name])
    batches: list[list[str]] = [[] for _ in range(args.batches)]
    sizes = [0] * args.batches
    for name in sorted(names, key=lambda u: -len(units[u])):
        k = sizes.index(min(sizes))
        batches[k].append(name)
        sizes[k] += len(units[name])

    os.makedirs(args.out, exist_ok=True)

    def write(path, unit_names):
        with open(path, "w", encoding="utf-8") as f:
            for u in sorted(unit_names, key=lambda u: (units[u][0]["corpus"], u)):
                items = sorted(units[u], key=lambda it: it.get("start", 0))
                f.write(json.dumps({"unit": u, "corpus": items[0]["corpus"],
                                    "sentences": [{"id": it["id"], "text": it["text"]} for it in items]},
                                   ensure_ascii=False) + "\n")

    for k, b in enumerate(batches, 1):
        write(os.path.join(args.out, f"batch{k}.jsonl"), b)
    write(os.path.join(args.out, "second.jsonl"), second)
    with open(os.path.join(args.out, "selection.json"), "w") as f:
        json.dump({it["id"]: {"part": it["part"], "hash": text_hash(it["text"])} for it in unique}, f)
    by = {}
    for it in unique:
        by.setdefault((it["corpus"], it["part"]), 0)
        by[(it["corpus"], it["part"])] += 1
    print(f"{n_total} sentences; second annotation {n_second} ({n_second / n_total:.0%}); batch sizes {sizes}")
    for key in sorted(by):
        print(key, by[key])
    _ = hashlib


if __name__ == "__main__":
    main()
