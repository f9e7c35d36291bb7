#!/usr/bin/env python3
"""Build the real-news reference set (``data/real_news/``) from the annotation folder.

Reads the batches, the selection and the labels written by the annotators (``--annot``,
default ``/work/annot``: ``batch{1..4}.jsonl``, ``second.jsonl``, ``selection.json``,
``labels/batch{1..4}.jsonl``, ``labels/second.jsonl``) and writes, WITHOUT ANY TEXT (the
corpora's licences forbid committing it):

- ``references.jsonl``: one line per sentence from the primary labels,
  ``{"id", "part", "hash", "label", "source": [start, end] | null, "cue": [start, end] | null, "kind"}``,
  offsets into the sentence (first whole-word occurrence, :func:`stancelib.data.find_span`);
- ``second_annotation.jsonl``: the blind second annotation in the same format;
- ``agreement.json``: Cohen's kappa and raw agreement of primary vs second (overall, per corpus,
  per part), the confusion matrix, source/cue offset agreement, and the disagreements by id;
- ``README.md``: what the set is and how it was made.

Before writing anything it checks that every id's text, re-read from the corpora folder
(``--data-dir``, default ``STANCELIB_DATA`` or the ``shared/data`` next to the repository), hashes to the selection's hash,
that the batch text the annotators read is that same text, that each label file has exactly one
line per id of its batch, and that every source/cue is a substring of its sentence; it exits with
a message naming the file and id otherwise. The output is deterministic (sorted by id).

    python scripts/build_real_news_refs.py [--annot DIR] [--data-dir DIR] [--out data/real_news]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sklearn.metrics import cohen_kappa_score, confusion_matrix  # noqa: E402

from stancelib.corpora.references import PARTS, ReferenceError, _Resolver, public_id, text_hash  # noqa: E402
from stancelib.data import find_span  # noqa: E402
from stancelib.labels import LABELS  # noqa: E402

PRIMARY = ("batch1", "batch2", "batch3", "batch4")
SECOND = "second"
CORPORA = ("polnear", "checkthat", "newssd", "babe")
REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT_DEFAULT = os.path.join(REPO, "data", "real_news")
DATA_DEFAULT = os.environ.get("STANCELIB_DATA") or os.path.join(os.path.dirname(REPO), "shared", "data")


class BuildError(Exception):
    """The annotation folder or the corpora do not fit together; the message says where."""


def _jsonl(path: str) -> list[tuple[int, dict]]:
    if not os.path.isfile(path):
        raise BuildError(f"{path}: file not found")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                raise BuildError(f"{path}:{n}: not valid JSON ({e.msg})") from None
    return rows


def read_batch(path: str) -> dict[str, str]:
    """``{id: text}`` of a batch file, in file order; an id twice is an error."""
    out: dict[str, str] = {}
    for n, unit in _jsonl(path):
        for s in unit.get("sentences") or []:
            if s["id"] in out:
                raise BuildError(f"{path}:{n}: id {s['id']} occurs twice in the batch")
            out[s["id"]] = s["text"]
    return out


def read_labels(path: str, batch_ids: dict[str, str], batch_path: str) -> dict[str, dict]:
    """The label lines of one file, checked: exactly one line per id of its batch, valid labels."""
    out: dict[str, dict] = {}
    for n, row in _jsonl(path):
        where = f"{path}:{n}"
        rid = row.get("id")
        if rid not in batch_ids:
            raise BuildError(f"{where}: id {rid!r} is not in {batch_path}")
        if rid in out:
            raise BuildError(f"{where}: id {rid} labelled twice (first at line {out[rid]['_line']})")
        if row.get("label") not in LABELS:
            raise BuildError(f"{where}: {rid}: label {row.get('label')!r} is not one of {', '.join(LABELS)}")
        out[rid] = row | {"_line": n, "_where": where}
    missing = [i for i in batch_ids if i not in out]
    if missing:
        raise BuildError(f"{path}: {len(missing)} id(s) of {batch_path} have no label line, "
                         f"e.g. {', '.join(missing[:5])}")
    return out


def to_reference(row: dict, text: str, sel: dict) -> dict:
    """A label line as a reference: the committed locator, substrings turned into offsets into ``text``."""
    ref = {"id": public_id(row["id"]), "part": sel["part"], "hash": sel["hash"], "label": row["label"]}
    for key in ("source", "cue"):
        value = row.get(key)
        if value in (None, ""):
            ref[key] = None
            continue
        if row["label"] != "attributed_statement":
            raise BuildError(f"{row['_where']}: {row['id']}: {key} given for a {row['label']} sentence")
        start = find_span(value, text)
        if start < 0:
            raise BuildError(f"{row['_where']}: {row['id']}: {key} is not a substring of the sentence")
        ref[key] = [start, start + len(value)]
    ref["kind"] = row.get("kind") or None
    return ref


def corpus_of(ref_id: str) -> str:
    return ref_id.split("/", 1)[0]


def _kappa(a: list[str], b: list[str]) -> float | None:
    if not a:
        return None
    if len(set(a) | set(b)) < 2:  # one label only: kappa is undefined
        return None
    k = cohen_kappa_score(a, b, labels=list(LABELS))
    return None if k != k else round(float(k), 4)


def _agree(pairs: list[tuple[str, str]]) -> dict:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    return {"n": len(pairs), "kappa": _kappa(a, b),
            "raw_agreement": round(sum(x == y for x, y in pairs) / len(pairs), 4) if pairs else None}


def _span_agreement(primary: dict[str, dict], second: dict[str, dict], ids: list[str], key: str) -> dict:
    both = [i for i in ids if primary[i]["label"] == second[i]["label"] == "attributed_statement"]
    given = [i for i in both if primary[i][key] and second[i][key]]
    exact = sum(primary[i][key] == second[i][key] for i in given)
    overlap = sum(primary[i][key][0] < second[i][key][1] and second[i][key][0] < primary[i][key][1] for i in given)
    same = sum(primary[i][key] == second[i][key] for i in both)  # null == null counts as the same
    return {
        "n_both_attributed": len(both),
        "n_both_given": len(given),
        "n_one_null": sum(bool(primary[i][key]) != bool(second[i][key]) for i in both),
        "n_both_null": sum(not primary[i][key] and not second[i][key] for i in both),
        "exact_match_where_both_given": round(exact / len(given), 4) if given else None,
        "overlap_where_both_given": round(overlap / len(given), 4) if given else None,
        "same_offsets_or_both_null": round(same / len(both), 4) if both else None,
    }


def agreement(primary: dict[str, dict], second: dict[str, dict]) -> dict:
    ids = sorted(second)
    pairs = {i: (primary[i]["label"], second[i]["label"]) for i in ids}
    cm = confusion_matrix([pairs[i][0] for i in ids], [pairs[i][1] for i in ids], labels=list(LABELS))
    return {
        "what": "primary (batch1-4) vs blind second annotation of the same sentences; three-way label",
        "labels": list(LABELS),
        "overall": _agree(list(pairs.values())),
        "per_corpus": {c: _agree([pairs[i] for i in ids if corpus_of(i) == c]) for c in CORPORA},
        "per_part": {p: _agree([pairs[i] for i in ids if primary[i]["part"] == p]) for p in PARTS},
        "confusion_matrix": {"rows": "primary", "columns": "second", "order": list(LABELS),
                             "matrix": cm.tolist()},
        "source": _span_agreement(primary, second, ids, "source"),
        "cue": _span_agreement(primary, second, ids, "cue"),
        "disagreements": [{"id": i, "primary": pairs[i][0], "second": pairs[i][1]}
                          for i in ids if pairs[i][0] != pairs[i][1]],
        "resolution": "the primary label is kept in references.jsonl; these disagreements are not adjudicated",
    }


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def readme(refs: list[dict], second: list[dict], agr: dict, batch_sizes: dict[str, int]) -> str:
    n = len(refs)
    cell = Counter((corpus_of(r["id"]), r["part"], r["label"]) for r in refs)
    lines = [
        "# Real-news annotation (references only)",
        "",
        f"{n:,} sentences of the *trainable* splits of the four real-news corpora in `../shared/data`",
        "(PolNeAR train/dev, CheckThat! 2025 subjectivity train/dev, NewsSD-ENG, BABE SG2 without",
        "Reuters), labelled by this project under `../shared/LABELS.md` (three-way label, plus source",
        "and cue spans for `attributed_statement` and a `kind`). The held-out splits (PolNeAR test,",
        "CheckThat! dev_test, BABE Reuters) are never referenced.",
        "",
        "**Licence: this folder holds references only** (locator ids, character offsets, 12-hex-digit",
        "SHA-256 prefixes of the text, labels, kinds). The corpora's licences forbid committing their",
        "text or anything derived from it; the text is re-read from your own copy of the corpora.",
        "",
        "## Using it",
        "",
        "```python",
        "from stancelib.corpora import load_real_news",
        "",
        "train = load_real_news(\"train\")             # root=None: STANCELIB_DATA or ../shared/data",
        "dev = load_real_news(\"dev\", root=\"/path/to/shared/data\")",
        "```",
        "",
        "Each record is a canonical stancelib record (`text`, definite `label`, `source`/`cue` spans)",
        "plus `corpus`, `part`, `ref` (the id) and `kind`; PolNeAR records also carry `i` and `article`",
        "(the article's sentences) for context models. A missing corpus file or a text whose hash",
        "differs (another release of a corpus) raises `ReferenceError` naming the reference.",
        "",
        "**The `dev` part is the instrument for model decisions (recipes, thresholds, model choice) and",
        "is never trained on.** It is disjoint from `train` by text, and by article for PolNeAR (its dev",
        "articles come from PolNeAR dev/) and BABE (parts are split by article link); its CheckThat!",
        "rows come from CheckThat! dev, its NewsSD rows are those whose text is a CheckThat! dev sentence.",
        "",
        "## Counts",
        "",
        "| corpus | part | " + " | ".join(LABELS) + " | total |",
        "|---|---|" + "---:|" * (len(LABELS) + 1),
    ]
    for c in CORPORA:
        for p in PARTS:
            row = [cell[(c, p, lab)] for lab in LABELS]
            lines.append(f"| {c} | {p} | " + " | ".join(f"{x:,}" for x in row) + f" | {sum(row):,} |")
    for p in PARTS:
        row = [sum(cell[(c, p, lab)] for c in CORPORA) for lab in LABELS]
        lines.append(f"| **all** | {p} | " + " | ".join(f"{x:,}" for x in row) + f" | {sum(row):,} |")
    row = [sum(1 for r in refs if r["label"] == lab) for lab in LABELS]
    lines.append("| **all** | both | " + " | ".join(f"{x:,}" for x in row) + f" | {sum(row):,} |")
    lines += ["", "Kinds (primary labels; the annotators' one-word reason, see `/work/annot/BRIEF.md` lists):", "",
              "| label | kind | train | dev | total |", "|---|---|---:|---:|---:|"]
    kinds = Counter((r["label"], r["kind"] or "(none)", r["part"]) for r in refs)
    for lab in LABELS:
        for kind in sorted({k for (la, k, _) in kinds if la == lab}):
            tr, dv = kinds[(lab, kind, "train")], kinds[(lab, kind, "dev")]
            lines.append(f"| {lab} | {kind} | {tr:,} | {dv:,} | {tr + dv:,} |")
    o = agr["overall"]
    lines += [
        "",
        "## How it was made",
        "",
        "- Selection (`scripts/real_news_batches.py`, seed 14): whole PolNeAR articles of 1,500-6,000",
        "  characters spread over outlets, random rows of the other corpora; a text occurs once.",
        f"- Primary annotation: 4 annotators, one batch each ({', '.join(f'{k}: {v:,}' for k, v in batch_sizes.items())}",
        "  sentences); PolNeAR articles were read whole (rules 11 and 12 need the neighbours), other",
        "  rows as single sentences.",
        f"- Blind second annotation of {len(second):,} sentences ({len(second) / n:.0%}; whole units drawn at",
        "  random across the batches) by a separate annotator who did not see the primary labels.",
        "- **Caveat: every annotator, primary and second, is an LLM session** that read `LABELS.md` and",
        "  `data/corpus/GUIDELINE.md` and labelled by reading, without scripts or models. No human",
        "  annotated this set; the agreement below is agreement between LLM sessions, and shared",
        "  habits of such sessions are not caught by it.",
        "- Spans: the annotators gave `source`/`cue` as exact substrings; they are stored as offsets of",
        "  the first whole-word occurrence in the sentence (`stancelib.data.find_span`), which may not be",
        "  the occurrence meant when the same words occur twice. A span in a neighbouring sentence",
        "  (quote continuations) is null.",
        "",
        "## Agreement (primary vs second)",
        "",
        f"Cohen's kappa **{_fmt(o['kappa'])}**, raw agreement {_fmt(o['raw_agreement'])} on n = {o['n']:,}"
        " doubly-annotated sentences (details in `agreement.json`).",
        "",
        "| group | n | kappa | raw agreement |",
        "|---|---:|---:|---:|",
    ]
    for name, g in list(agr["per_corpus"].items()) + list(agr["per_part"].items()):
        lines.append(f"| {name} | {g['n']:,} | {_fmt(g['kappa'])} | {_fmt(g['raw_agreement'])} |")
    cm = agr["confusion_matrix"]["matrix"]
    lines += ["", "Confusion matrix (rows primary, columns second):", "",
              "| primary \\ second | " + " | ".join(LABELS) + " |", "|---|" + "---:|" * len(LABELS)]
    for lab, row in zip(LABELS, cm):
        lines.append(f"| {lab} | " + " | ".join(str(x) for x in row) + " |")
    s, c = agr["source"], agr["cue"]
    lines += [
        "",
        f"Where both said `attributed_statement` ({s['n_both_attributed']:,}): source offsets identical in"
        f" {_fmt(s['exact_match_where_both_given'])} of the {s['n_both_given']:,} where both gave one"
        f" (overlapping in {_fmt(s['overlap_where_both_given'])}); cue offsets identical in"
        f" {_fmt(c['exact_match_where_both_given'])} of {c['n_both_given']:,}"
        f" (overlapping in {_fmt(c['overlap_where_both_given'])}).",
        "",
        f"**Disagreements** ({len(agr['disagreements']):,}) were not adjudicated: `references.jsonl` keeps the",
        "primary label, and every disagreement is listed by id in `agreement.json` (`disagreements`).",
        "`second_annotation.jsonl` holds the second labels in the same reference format.",
        "",
        "## Files",
        "",
        "- `references.jsonl`: `{\"id\", \"part\", \"hash\", \"label\", \"source\": [start, end] | null,"
        " \"cue\": [start, end] | null, \"kind\"}`, sorted by id; the id format is documented in"
        " `stancelib/corpora/references.py`. A PolNeAR id names its article by `article_key` (12 hex digits"
        " of the SHA-256 of the file name), not by the file name, which opens with the headline's words.",
        "- `second_annotation.jsonl`: the second annotation, same format.",
        "- `agreement.json`: the figures above.",
        "",
        "Rebuilt by `python scripts/build_real_news_refs.py --annot /work/annot` (it checks every text",
        "against the selection's hash and every label file against its batch).",
        "",
    ]
    return "\n".join(lines)


def _write_jsonl(path: str, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def build(annot: str, data_dir: str | None, out: str) -> dict:
    sel_path = os.path.join(annot, "selection.json")
    if not os.path.isfile(sel_path):
        raise BuildError(f"{sel_path}: file not found")
    with open(sel_path, encoding="utf-8") as f:
        selection = json.load(f)
    batches = {b: read_batch(os.path.join(annot, f"{b}.jsonl")) for b in PRIMARY + (SECOND,)}
    labels = {b: read_labels(os.path.join(annot, "labels", f"{b}.jsonl"), batches[b], os.path.join(annot, f"{b}.jsonl"))
              for b in batches}

    # every selected id is in exactly one primary batch, and nothing else is
    owner: dict[str, str] = {}
    for b in PRIMARY:
        for i in batches[b]:
            if i in owner:
                raise BuildError(f"{i} is in both {owner[i]}.jsonl and {b}.jsonl")
            owner[i] = b
    for b in PRIMARY + (SECOND,):
        stray = [i for i in batches[b] if i not in selection]
        if stray:
            raise BuildError(f"{b}.jsonl: {len(stray)} id(s) not in selection.json, e.g. {', '.join(stray[:5])}")
    unlabelled = [i for i in selection if i not in owner]
    if unlabelled:
        raise BuildError(f"selection.json: {len(unlabelled)} id(s) in no primary batch, e.g. {', '.join(unlabelled[:5])}")
    outside = [i for i in batches[SECOND] if i not in owner]
    if outside:
        raise BuildError(f"second.jsonl: ids with no primary label, e.g. {', '.join(outside[:5])}")

    # the text, re-read from the corpora, is the annotated one
    resolver = _Resolver(data_dir)
    texts: dict[str, str] = {}
    for i in sorted(selection):
        sel = selection[i]
        if sel.get("part") not in PARTS:
            raise BuildError(f"selection.json: {i}: part must be one of {PARTS}, got {sel.get('part')!r}")
        try:
            text, _ = resolver.text(i)
        except ReferenceError as e:
            raise BuildError(f"{i}: cannot re-read the text from the corpora folder: {e}") from None
        if text_hash(text) != sel["hash"]:
            raise BuildError(f"{i}: the text in the corpora folder hashes to {text_hash(text)}, the selection says "
                             f"{sel['hash']}: a different copy or release of the corpus?")
        for b in (owner[i],) + ((SECOND,) if i in batches[SECOND] else ()):
            if batches[b][i] != text:
                raise BuildError(f"{b}.jsonl: {i}: the text the annotator read is not the corpus text "
                                 f"(hash {text_hash(batches[b][i])} != {sel['hash']})")
        pub = public_id(i)  # what is committed must resolve to the same text
        if pub != i and text_hash(resolver.text(pub)[0]) != sel["hash"]:
            raise BuildError(f"{i}: its committed locator {pub} does not resolve to the same text")
        texts[i] = text

    primary_rows = {i: row for b in PRIMARY for i, row in labels[b].items()}
    refs = sorted((to_reference(primary_rows[i], texts[i], selection[i]) for i in primary_rows), key=lambda r: r["id"])
    second = sorted((to_reference(labels[SECOND][i], texts[i], selection[i]) for i in labels[SECOND]),
                    key=lambda r: r["id"])
    if len({r["id"] for r in refs}) != len(refs):
        raise BuildError("two annotation ids map to the same committed locator (an article_key collision?)")
    by_id = {r["id"]: r for r in refs}
    agr = agreement(by_id, {r["id"]: r for r in second})

    os.makedirs(out, exist_ok=True)
    _write_jsonl(os.path.join(out, "references.jsonl"), refs)
    _write_jsonl(os.path.join(out, "second_annotation.jsonl"), second)
    with open(os.path.join(out, "agreement.json"), "w", encoding="utf-8") as f:
        json.dump(agr, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
        f.write(readme(refs, second, agr, {b: len(batches[b]) for b in PRIMARY}))
    return {"n": len(refs), "n_second": len(second), "agreement": agr}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annot", default="/work/annot", help="the annotation folder (batches, selection, labels/)")
    ap.add_argument("--data-dir", default=DATA_DEFAULT,
                    help="the corpora folder (default: STANCELIB_DATA or ../shared/data next to the repository)")
    ap.add_argument("--out", default=OUT_DEFAULT)
    args = ap.parse_args()
    try:
        res = build(args.annot, args.data_dir, args.out)
    except (BuildError, FileNotFoundError) as e:
        sys.exit(f"build_real_news_refs: {e}")
    o = res["agreement"]["overall"]
    print(f"{res['n']} references, {res['n_second']} second labels; kappa {_fmt(o['kappa'])}, "
          f"raw agreement {_fmt(o['raw_agreement'])} -> {os.path.normpath(args.out)}")


if __name__ == "__main__":
    main()
