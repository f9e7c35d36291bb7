"""The bundled corpus (data/corpus): schema, splits, spans, and that every article rebuilds."""

import collections
import glob
import json
import os

import pytest

from stancelib import LABELS, read_records, split_sentences
from stancelib.data import check_disjoint, load_minimal_pairs

CORPUS = os.path.join(os.path.dirname(__file__), "..", "data", "corpus")
SPLITS = ("train", "dev", "test")


def raw_rows(name):
    with open(os.path.join(CORPUS, f"{name}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def rows():
    return {name: raw_rows(name) for name in SPLITS}


@pytest.fixture(scope="module")
def pairs():
    return raw_rows("minimal_pairs")


def test_splits_load_with_the_project_loader(rows):
    # read_records validates labels, non-empty text, and that source/cue spans match their text
    for name in SPLITS:
        records = read_records(os.path.join(CORPUS, f"{name}.jsonl"))
        assert len(records) == len(rows[name])


def test_schema(rows):
    keys = {"doc", "i", "start", "end", "text", "label", "source", "cue", "hard", "paragraph", "domain", "register"}
    for name in SPLITS:
        for r in rows[name]:
            assert set(r) == keys, r
            assert r["label"] in LABELS
            if r["label"] != "attributed_statement":
                assert r["source"] is None and r["cue"] is None, r
            for span in (r["source"], r["cue"]):
                if span:
                    assert r["text"][span["start"]:span["end"]] == span["text"]


def test_counts_and_label_mix(rows, pairs):
    everything = [r for name in SPLITS for r in rows[name]]
    assert len({r["doc"] for r in everything}) >= 300
    assert len(everything) >= 4000
    assert len(pairs) >= 280
    counts = collections.Counter(r["label"] for r in everything)
    for label in LABELS:
        assert counts[label] / len(everything) >= 0.20, counts
    assert len({r["domain"] for r in everything}) >= 12
    assert len({r["register"] for r in everything}) >= 6


def test_splits_are_disjoint_by_article_sentence_and_group(rows, pairs):
    docs = {name: {r["doc"] for r in rows[name]} for name in SPLITS}
    assert not (docs["train"] & docs["dev"]) and not (docs["train"] & docs["test"]) and not (docs["dev"] & docs["test"])
    path = os.path.join(CORPUS, "minimal_pairs.jsonl")
    check_disjoint({name: read_records(os.path.join(CORPUS, f"{name}.jsonl")) + load_minimal_pairs(path, name)
                    for name in SPLITS})
    assert {p["split"] for p in pairs} == set(SPLITS)
    assert len({p["group"] for p in pairs}) == len(pairs)


def test_every_article_rebuilds_from_its_sentences(rows):
    by_doc = collections.defaultdict(list)
    for name in SPLITS:
        for r in rows[name]:
            by_doc[r["doc"]].append(r)
    files = glob.glob(os.path.join(CORPUS, "articles", "*.txt"))
    assert {os.path.basename(f)[:-4] for f in files} == set(by_doc)
    for doc, sents in by_doc.items():
        text = open(os.path.join(CORPUS, "articles", f"{doc}.txt"), encoding="utf-8").read()
        sents.sort(key=lambda r: r["i"])
        assert [r["i"] for r in sents] == list(range(len(sents)))
        pos = 0
        for r in sents:
            assert text[r["start"]:r["end"]] == r["text"]
            assert text[pos:r["start"]].strip() == ""  # nothing but whitespace between sentences
            pos = r["end"]
        assert text[pos:].strip() == ""


def test_sentence_splitter_on_corpus_articles(rows):
    """Boundary F1 of split_sentences against the corpus's own sentence offsets (target 0.98)."""
    gold, found, hit = 0, 0, 0
    by_doc = collections.defaultdict(set)
    for name in SPLITS:
        for r in rows[name]:
            by_doc[r["doc"]].add((r["start"], r["end"]))
    for doc, spans in by_doc.items():
        text = open(os.path.join(CORPUS, "articles", f"{doc}.txt"), encoding="utf-8").read()
        predicted = set(split_sentences(text))
        gold += len(spans)
        found += len(predicted)
        hit += len(spans & predicted)
    precision, recall = hit / found, hit / gold
    assert 2 * precision * recall / (precision + recall) >= 0.98


def test_sources_pass_their_checker(capsys):
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
    from check_corpus_source import main

    src = os.path.join(CORPUS, "source")
    assert main(sorted(glob.glob(os.path.join(src, "w*.jsonl")))) == 0
    assert main(sorted(glob.glob(os.path.join(src, "ctx*.jsonl")))) == 0  # challenge set and supplement
    assert main(sorted(glob.glob(os.path.join(src, "genre*.jsonl")))) == 0  # genre supplement
    assert main(sorted(glob.glob(os.path.join(src, "pairs_*.jsonl")))) == 0
    out = capsys.readouterr().out
    assert "problems 0" in out and "problems 1" not in out


CHALLENGE_PARTS = ("dev", "test", "test2")


def check_context_articles(records):
    """Continuations carry no source or cue of their own; every article's sentences are numbered 0..n-1."""
    assert all(r["source"] is None and r["cue"] is None and r["label"] == "attributed_statement"
               for r in records if r["hard"].startswith("rule 12"))
    by_doc = collections.defaultdict(list)
    for r in records:
        by_doc[r["doc"]].append(r["i"])
    assert all(sorted(ids) == list(range(len(ids))) for ids in by_doc.values())


@pytest.mark.parametrize("part", CHALLENGE_PARTS)
def test_context_challenge_set(rows, part):
    """Evaluation-only articles whose labels depend on neighbouring sentences (rules 11, 12)."""
    records = read_records(os.path.join(CORPUS, "context_challenge", f"{part}.jsonl"))
    assert len(records) >= 250
    hard = collections.Counter(r["hard"].split(":")[0] for r in records)
    assert hard["rule 12"] >= 50 and hard["rule 11"] >= 20
    check_context_articles(records)
    # never in a training split, nor in the training supplements
    check_disjoint({"challenge": records, "supplement": read_records(os.path.join(CORPUS, "context_train.jsonl")),
                    "genre supplement": read_records(os.path.join(CORPUS, "genre_train.jsonl"))}
                   | {name: read_records(os.path.join(CORPUS, f"{name}.jsonl")) for name in SPLITS})


def test_context_training_supplement():
    """Training-only articles rich in multi-sentence quotes and pronoun sources, outside dev, test and challenge."""
    records = read_records(os.path.join(CORPUS, "context_train.jsonl"))
    hard = collections.Counter(r["hard"].split(":")[0] for r in records)
    assert len({r["doc"] for r in records}) >= 90 and hard["rule 12"] >= 200 and hard["rule 11"] >= 50
    # quote sentences with no quote mark at all (a quote's middle) are what sentence-only models cannot see
    assert sum(1 for r in records if r["hard"].startswith("rule 12") and not set('"\u201c\u201d') & set(r["text"])) >= 50
    check_context_articles(records)
    challenge = [r for part in CHALLENGE_PARTS for r in read_records(os.path.join(CORPUS, "context_challenge", f"{part}.jsonl"))]
    check_disjoint({"supplement": records, "challenge": challenge}
                   | {name: read_records(os.path.join(CORPUS, f"{name}.jsonl")) for name in ("dev", "test")})


def test_genre_training_supplement(rows):
    """Training-only copy of the genres real neutral reports come from, in no split: wire, market,
    sport, culture, obituary, weather and schedule copy, and long-sentence political, social-issue,
    international and speech coverage.

    Kept out of source/w*.jsonl so that adding to it never moves an article between train, dev and test.
    """
    records = read_records(os.path.join(CORPUS, "genre_train.jsonl"))
    docs = {r["doc"] for r in records}
    assert len(docs) >= 180 and len(records) >= 1900
    assert all(d.startswith("g") for d in docs)
    split_docs = {r["doc"] for name in SPLITS for r in rows[name]}
    assert not docs & split_docs
    assert not {f"{d}.txt" for d in docs} & set(os.listdir(os.path.join(CORPUS, "articles")))
    # about half neutral, as real copy is, with attributions and claims
    counts = collections.Counter(r["label"] for r in records)
    assert 0.45 <= counts["neutral_report"] / len(records) <= 0.75, counts
    assert counts["attributed_statement"] / len(records) >= 0.15 and counts["unattributed_claim"] / len(records) >= 0.05, counts
    # reporting verbs are not all "said"
    cues = collections.Counter(r["cue"]["text"].split()[0].lower() for r in records if r["cue"])
    assert len(cues) >= 15 and cues["said"] <= 0.5 * sum(cues.values()), cues
    # sentence length does not give neutral reports away: long and short sentences of every label
    words = collections.defaultdict(list)
    for r in records:
        words[r["label"]].append(len(r["text"].split()))
    assert max(words["neutral_report"]) >= 45 and min(words["neutral_report"]) <= 6
    assert max(words["attributed_statement"]) >= 35 and max(words["unattributed_claim"]) >= 25
    # many long sentences of every label: a long sentence is not a neutral one, nor a claim
    for label, n in words.items():
        assert sum(w >= 25 for w in n) / len(n) >= 0.2, (label, n)
    by_doc = collections.defaultdict(list)
    for r in records:
        by_doc[r["doc"]].append(r["i"])
    assert all(sorted(ids) == list(range(len(ids))) for ids in by_doc.values())
    # outside dev, test, the dev/test pair groups and the context challenge set
    pairs_path = os.path.join(CORPUS, "minimal_pairs.jsonl")
    challenge = [r for part in CHALLENGE_PARTS for r in read_records(os.path.join(CORPUS, "context_challenge", f"{part}.jsonl"))]
    check_disjoint({"genre supplement": records, "challenge": challenge}
                   | {name: read_records(os.path.join(CORPUS, f"{name}.jsonl")) + load_minimal_pairs(pairs_path, name)
                      for name in ("dev", "test")})


def _scripts():
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
    import check_corpus_source

    return check_corpus_source


def test_no_unattributed_member_is_the_neutral_one_plus_an_appended_clause(pairs):
    cs = _scripts()
    assert cs.appended_clause("The port closed on Monday.",
                              "The port closed on Monday, though many in the port believe it will reopen.")
    assert not cs.appended_clause("The port closed on Monday.", "The port closed on Monday, a port source told local media.")
    bad = [p["group"] for p in pairs if p["neutral"] and p["unattributed"]
           and cs.appended_clause(p["neutral"], p["unattributed"])]
    assert not bad, bad


def test_every_claim_kind_and_the_boundary_have_enough_groups(pairs):
    cs = _scripts()
    kinds = collections.Counter(p["kind"] for p in pairs)
    for kind in cs.CLAIM_KINDS:
        assert kinds[kind] >= 40, (kind, kinds[kind])
    assert sum(kinds[k] for k in cs.BOUNDARY_KINDS) >= 150, kinds
    assert kinds["act vs statement"] >= 40 and kinds["report of speaking"] >= 40
    # claim groups have all three members; pairs of two have no unattributed member
    for p in pairs:
        if p["kind"] in cs.CLAIM_KINDS:
            assert all(p[k] for k in ("neutral", "attributed", "unattributed")), p["group"]
        if p["kind"] in cs.PAIRS_OF_TWO:
            assert p["unattributed"] is None and p["neutral"] and p["attributed"], p["group"]
    # the reporting verbs are not all "said"
    cues = collections.Counter(p["cue"].split()[0].lower() for p in pairs if p["kind"] == "reporting verb")
    assert len(cues) >= 30 and cues["said"] <= 10, cues


def test_pairs_of_two_load_with_the_project_loader(pairs):
    path = os.path.join(CORPUS, "minimal_pairs.jsonl")
    recs = load_minimal_pairs(path)
    assert len(recs) == sum(sum(p[k] is not None for k in ("neutral", "attributed", "unattributed")) for p in pairs)
