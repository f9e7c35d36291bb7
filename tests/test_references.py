"""The real-news reference set (stancelib.corpora.references, data/real_news/).

The fake-corpus tests build a tiny corpora folder in each corpus's file layout with sentences
invented for these tests (no corpus text is copied here). The ``shared_data`` tests materialise
the committed references from the real corpora and skip when ../shared/data is absent.
"""

import csv
import json
import os

import pytest

from stancelib.corpora import ReferenceError, load_real_news
from stancelib.corpora.references import REFERENCES_FILE, article_key, public_id, text_hash
from stancelib.data import DataError
from stancelib.labels import LABELS
from stancelib.sentences import split_sentences

from .conftest import SHARED_DATA

# --------------------------------------------------------------------------- a fake corpora folder

ARTICLE = ("Harbour toll to double in June\n\n"
           "The port authority said the toll would double on June 1. "
           "Critics say the rise is a cynical cash grab.\n")
CT_ROWS = [("ct-1", "The library opened a second reading room on Monday."),
           ("ct-2", "This is   surely the worst budget in a generation.")]
NS_ROWS = ["The museum, the director said, will close for a month.", "Trains ran late on Tuesday."]
BABE_ROWS = [("Grain prices fell 3 percent last week.", "Daily Lantern", "http://example.org/a"),
             ("The mayor's shameful stunt fooled nobody.", "Evening Bell", "http://example.org/b")]


def _write_fake_corpora(base):
    (base / "polnear" / "data" / "train" / "text").mkdir(parents=True)
    (base / "polnear" / "data" / "train" / "text" / "x.txt").write_text(ARTICLE, encoding="utf-8")
    ct = base / "checkthat2025-subjectivity-en" / "task1" / "data" / "english"
    ct.mkdir(parents=True)
    with open(ct / "train_en.tsv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["sentence_id", "sentence", "label"])
        w.writerows([(i, t, "OBJ") for i, t in CT_ROWS])
    ns = base / "newssd-eng" / "data" / "english"
    ns.mkdir(parents=True)
    with open(ns / "train.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Sentence", "Label"])
        w.writerows([(t, "OBJ") for t in NS_ROWS])
    (base / "babe" / "data").mkdir(parents=True)
    with open(base / "babe" / "data" / "final_labels_SG2.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(["text", "news_link", "outlet", "label_bias"])
        w.writerows([(t, link, outlet, "Non-biased") for t, outlet, link in BABE_ROWS])
    return str(base)


def _article_span(k):
    """(start, end) of the k-th sentence of the fake article, as the locators name it."""
    return split_sentences(ARTICLE)[k]


@pytest.fixture
def fake(tmp_path):
    """A fake corpora folder and the expected texts of five references into it.

    The first PolNeAR reference names its article by ``article_key`` (as committed references do),
    the second by its file name (as the annotation batches do).
    """
    root = _write_fake_corpora(tmp_path / "data")
    (s1, e1), (s2, e2) = _article_span(1), _article_span(2)
    texts = {
        f"polnear/train/{article_key('x')}@{s1}-{e1}": ARTICLE[s1:e1],
        f"polnear/train/x@{s2}-{e2}": ARTICLE[s2:e2],
        "checkthat/train/ct-2": "This is surely the worst budget in a generation.",  # whitespace collapsed
        "newssd/train/1": NS_ROWS[0],
        "babe/SG2/2": BABE_ROWS[1][0],
    }
    return root, texts


def _ref(ref_id, text, label="unattributed_claim", part="train", source=None, cue=None, kind=None):
    def span(value):
        if value is None:
            return None
        start = text.index(value)
        return [start, start + len(value)]
    return {"id": ref_id, "part": part, "hash": text_hash(text), "label": label,
            "source": span(source), "cue": span(cue), "kind": kind}


def _write_refs(path, rows, extra_lines=()):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return str(path)


def _fake_refs(texts):
    (p1, t1), (p2, t2), (ct, tct), (ns, tns), (bb, tbb) = texts.items()
    return [
        _ref(p1, t1, "attributed_statement", source="The port authority", cue="said", kind="said"),
        _ref(p2, t2, "unattributed_claim", kind="vague_source"),
        _ref(ct, tct, "unattributed_claim", part="dev", kind="judgement"),
        _ref(ns, tns, "attributed_statement", source="the director", cue="said", kind="said"),
        _ref(bb, tbb, "unattributed_claim", part="dev", kind="loaded_word"),
    ]


def test_fake_corpora_materialise_the_right_texts(fake, tmp_path):
    root, texts = fake
    path = _write_refs(tmp_path / "refs.jsonl", _fake_refs(texts))
    recs = load_real_news(root=root, path=path)
    assert [r["ref"] for r in recs] == list(texts)
    assert [r["text"] for r in recs] == list(texts.values())
    assert [r["corpus"] for r in recs] == ["polnear", "polnear", "checkthat", "newssd", "babe"]
    said = recs[0]
    assert said["label"] == "attributed_statement" and said["kind"] == "said"
    assert said["source"]["text"] == "The port authority" and said["cue"]["text"] == "said"
    assert recs[3]["source"]["text"] == "the director"
    assert recs[1]["source"] is None and recs[1]["cue"] is None
    for rec in recs[:2]:
        assert rec["article"][rec["i"]] == rec["text"]
        assert rec["article"][0] == "Harbour toll to double in June"
    assert (recs[0]["i"], recs[1]["i"]) == (1, 2)
    assert recs[0]["doc"] == recs[1]["doc"] == "x"  # the file name, whichever way the id names it
    assert [r["ref"] for r in load_real_news("dev", root=root, path=path)] == ["checkthat/train/ct-2", "babe/SG2/2"]
    assert len(load_real_news("train", root=root, path=path)) == 3


def test_fake_missing_file_names_the_reference(fake, tmp_path):
    root, texts = fake
    path = _write_refs(tmp_path / "refs.jsonl", _fake_refs(texts))
    os.remove(os.path.join(root, "babe", "data", "final_labels_SG2.csv"))
    with pytest.raises(ReferenceError, match=r"refs\.jsonl:5: babe/SG2/2: .*final_labels_SG2\.csv"):
        load_real_news(root=root, path=path)
    os.remove(os.path.join(root, "polnear", "data", "train", "text", "x.txt"))
    p1, p2 = list(texts)[:2]
    with pytest.raises(ReferenceError, match=rf"refs\.jsonl:1: {p1}: PolNeAR article with key {article_key('x')}"):
        load_real_news(root=root, path=path)
    path = _write_refs(tmp_path / "refs2.jsonl", _fake_refs(texts)[1:2])
    with pytest.raises(ReferenceError, match=rf"refs2\.jsonl:1: {p2}: .*x\.txt"):
        load_real_news(root=root, path=path)


def test_public_id_hides_the_article_name():
    key = article_key("outlet_2016-01-02_some-headline-words")
    assert public_id("polnear/dev/outlet_2016-01-02_some-headline-words@10-40") == f"polnear/dev/{key}@10-40"
    assert public_id(f"polnear/dev/{key}@10-40") == f"polnear/dev/{key}@10-40"
    for other in ("checkthat/train/ct-2", "newssd/val/4", "babe/SG2/7"):
        assert public_id(other) == other


def test_fake_missing_row_names_the_reference(fake, tmp_path):
    root, texts = fake
    path = _write_refs(tmp_path / "refs.jsonl", [_ref("newssd/train/9", "Anything at all.")])
    with pytest.raises(ReferenceError, match=r"refs\.jsonl:1: newssd/train/9: no such row"):
        load_real_news(root=root, path=path)


def test_fake_changed_text_is_caught_by_hash(fake, tmp_path):
    root, texts = fake
    rows = _fake_refs(texts)
    rows[2]["hash"] = text_hash("This is surely the best budget in a generation.")
    path = _write_refs(tmp_path / "refs.jsonl", rows)
    with pytest.raises(ReferenceError, match=r"refs\.jsonl:3: checkthat/train/ct-2: .*does not match"):
        load_real_news(root=root, path=path)
    # the same failure when the corpus file itself changes under a correct reference
    rows = _fake_refs(texts)
    path = _write_refs(tmp_path / "refs2.jsonl", rows)
    article = os.path.join(root, "polnear", "data", "train", "text", "x.txt")
    with open(article, "w", encoding="utf-8") as f:
        f.write(ARTICLE.replace("double", "triple"))
    p1 = next(iter(texts))
    with pytest.raises(ReferenceError, match=rf"refs2\.jsonl:1: {p1}: .*hash"):
        load_real_news(root=root, path=path)


@pytest.mark.parametrize("bad, message", [
    ("{not json", "malformed JSON"),
    ("[1, 2]", "a reference is a JSON object"),
    (json.dumps({"id": "babe/SG2/1", "part": "train", "label": "neutral_report"}), "lacks hash"),
    (json.dumps({"id": "babe/SG2/1", "part": "test", "hash": "0" * 12, "label": "neutral_report"}), "part must be"),
])
def test_fake_malformed_line_names_file_and_line(fake, tmp_path, bad, message):
    root, texts = fake
    path = _write_refs(tmp_path / "refs.jsonl", _fake_refs(texts)[:2], extra_lines=["", bad])
    with pytest.raises(DataError, match=rf"refs\.jsonl:4: .*{message}"):
        load_real_news(root=root, path=path)


# --------------------------------------------------------------------------- the committed set, real corpora

@pytest.fixture(scope="module")
def real_news():
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"real corpora not found at {SHARED_DATA}")
    return load_real_news(root=os.path.abspath(SHARED_DATA))


@pytest.mark.shared_data
def test_real_news_size_parts_and_labels(real_news):
    assert len(real_news) >= 3000
    dev = [r for r in real_news if r["part"] == "dev"]
    assert len(dev) >= 600
    assert {r["corpus"] for r in dev} == {"polnear", "checkthat", "newssd", "babe"}
    for part in ("train", "dev"):
        assert {r["label"] for r in real_news if r["part"] == part} == set(LABELS)
    assert len({r["ref"] for r in real_news}) == len(real_news)


@pytest.mark.shared_data
def test_real_news_spans_and_articles(real_news):
    for rec in real_news:
        for key in ("source", "cue"):
            span = rec[key]
            if span is not None:
                assert rec["label"] == "attributed_statement", rec["ref"]
                assert rec["text"][span["start"]:span["end"]] == span["text"] and span["text"], rec["ref"]
        if rec["corpus"] == "polnear":
            assert rec["article"][rec["i"]] == rec["text"], rec["ref"]
        else:
            assert "article" not in rec


def test_committed_files_hold_no_text():
    """Reference lines carry only ids, parts, hashes, labels, offsets and kinds."""
    with open(REFERENCES_FILE, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    assert {tuple(row) for row in rows} == {("id", "part", "hash", "label", "source", "cue", "kind")}
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert all(public_id(r["id"]) == r["id"] for r in rows)  # no PolNeAR file name (headline words)


def test_held_out_splits_are_never_resolved(tmp_path):
    from stancelib.corpora.references import ReferenceError, _Resolver

    (tmp_path / "polnear").mkdir()
    resolver = _Resolver(str(tmp_path))
    for ref_id in ("polnear/test/abc@0-10", "checkthat/dev_test/x1", "babe/SG1/3"):
        with pytest.raises(ReferenceError, match="held out|only"):
            resolver.text(ref_id)
