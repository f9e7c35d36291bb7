import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file

from stancelib import LABELS, StanceClassifier, TrainingArguments
from stancelib.data import DataError, read_records
from stancelib.trainer import class_weights, load_training_data, sample_real_news, train
from tests.conftest import make_tiny_model, write_jsonl
from tests.test_corpora import synth  # noqa: F401 - the synthetic real-news corpora fixture (pyflakes: used)

def tiny_args(tiny_corpus, out, **kw):
    values = dict(
        backbone="unused", train_file=tiny_corpus["train"], dev_file=tiny_corpus["dev"],
        test_file=tiny_corpus["test"], pairs_file=tiny_corpus["pairs"], output_dir=str(out),
        max_length=32, num_train_epochs=2, per_device_train_batch_size=8, learning_rate=1e-3,
        logging_steps=1, model_card_dir=str(out / "cards"), seed=7, train_spans=False, window_tokens=128,
    )
    values.update(kw)
    return TrainingArguments(**values)

def test_train_saves_a_complete_model(tmp_path, tiny_corpus, tokenizer):
    out = tmp_path / "run"
    result = train(tiny_args(tiny_corpus, out), model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    model_dir = result["model_dir"]
    assert model_dir == str(out / "model")
    meta = json.load(open(os.path.join(model_dir, "stancelib.json")))
    assert meta["labels"] == list(LABELS) and meta["max_length"] == 32
    assert meta["n_train"] == 15 + 3  # 15 sentences + one minimal-pair group of three
    assert set(meta["data"]) == {tiny_corpus["train"], tiny_corpus["dev"], tiny_corpus["pairs"]}
    assert meta["n_dev"] == 6 + 3 and meta["metrics"]["dev_minimal_pairs"]["n_groups"] == 1
    # the recorded dev scores are those of the saved model, read the way prediction reads them
    clf = StanceClassifier.from_pretrained(model_dir)
    dev = read_records(tiny_corpus["dev"])
    preds = [clf.labels[k] for k in clf.predict_proba_records(dev).argmax(1)]
    assert meta["metrics"]["dev"]["accuracy"] == pytest.approx(np.mean([p == r["label"] for p, r in zip(preds, dev)]))
    assert meta["document_model"]["window_tokens"] == 128 and meta["document_model"]["format"] == 2
    card = open(os.path.join(model_dir, "README.md")).read()
    assert "stancelib model: run" in card and f"{meta['metrics']['dev']['macro_f1']:.3f}" in card
    assert open(result["model_card"]).read() == card
    assert not os.path.exists(out / "checkpoints")  # a finished run drops its checkpoints
    assert StanceClassifier.from_pretrained(model_dir).predict("Rain fell.") in LABELS

def test_same_seed_same_model(tmp_path, tiny_corpus, tokenizer):
    weights = []
    for name in ("a", "b"):
        result = train(tiny_args(tiny_corpus, tmp_path / name), model=make_tiny_model(tokenizer), tokenizer=tokenizer)
        weights.append(load_file(os.path.join(result["model_dir"], "model.safetensors")))
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        assert (weights[0][key] == weights[1][key]).all(), key

def test_resume_continues_from_checkpoint(tmp_path, tiny_corpus, tokenizer):
    out = tmp_path / "run"
    train(tiny_args(tiny_corpus, out, num_train_epochs=1, keep_checkpoints=True),
          model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    assert any(d.startswith("checkpoint-") for d in os.listdir(out / "checkpoints"))
    result = train(tiny_args(tiny_corpus, out, num_train_epochs=2), model=make_tiny_model(tokenizer),
                   tokenizer=tokenizer, resume=True)
    meta = json.load(open(os.path.join(result["model_dir"], "stancelib.json")))
    assert meta["epochs_run"] == 2.0

def test_leak_between_train_and_test_stops_training(tmp_path, tiny_corpus, tokenizer):
    leaky = write_jsonl(tmp_path / "leaky_test.jsonl", [{"text": "The team won 3-1 on Saturday.", "label": "neutral_report"}])
    with pytest.raises(DataError, match="sentence also in split 'train'"):
        train(tiny_args(tiny_corpus, tmp_path / "x", test_file=leaky), model=make_tiny_model(tokenizer), tokenizer=tokenizer)

def test_extra_train_files_join_training_and_the_leak_check(tmp_path, tiny_corpus):
    extra = write_jsonl(tmp_path / "extra.jsonl", [
        {"text": "\"The plan is a mistake,\" Mayor Ines Calder said.", "label": "attributed_statement"},
        {"text": "Nobody asked the farmers.", "label": "attributed_statement"}])
    base = load_training_data(tiny_args(tiny_corpus, tmp_path / "a"))
    # one path without list brackets is read as a list of one
    more = load_training_data(tiny_args(tiny_corpus, tmp_path / "b", extra_train_files=extra))
    assert len(more["train"]) == len(base["train"]) + 2 and more["dev"] == base["dev"]
    assert "Nobody asked the farmers." in {r["text"] for r in more["train"]}
    leaky = write_jsonl(tmp_path / "test.jsonl", [{"text": "Nobody asked the farmers.", "label": "neutral_report"}])
    with pytest.raises(DataError, match="sentence also in split 'train'"):
        load_training_data(tiny_args(tiny_corpus, tmp_path / "c", extra_train_files=[extra], test_file=leaky))


def test_class_weights(tiny_corpus):
    args = TrainingArguments()
    labels = ["neutral_report"] * 6 + ["attributed_statement"] * 3 + ["unattributed_claim"] * 3
    assert class_weights(args, labels) == pytest.approx([12 / 18, 12 / 9, 12 / 9])
    assert class_weights(TrainingArguments(class_weights="none"), labels) is None
    assert class_weights(TrainingArguments(class_weights=[1, 2, 3]), labels) == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="no sentence labelled unattributed_claim"):
        class_weights(args, ["neutral_report", "attributed_statement"])


ARTICLE = [
    ("Storm hits coast", "neutral_report"),
    ("The ministry said 40 homes were damaged.", "attributed_statement"),
    ("\"We will rebuild every one of them,\" Mayor Ana Ortiz told reporters.", "attributed_statement"),
    ("\"Nobody will be left behind.\"", "attributed_statement"),
    ("Critics say the repairs will never be finished.", "unattributed_claim"),
    ("Rain fell again on Monday.", "neutral_report"),
]


def _article_corpus(tmp_path, tiny_corpus, n_docs=6):
    rows = [{"text": f"{t} ({d})" if k else f"{t} {d}", "label": lab, "doc": f"art-{d}", "i": k,
             **({"hard": "rule 12 continuation"} if k == 3 else {})}
            for d in range(n_docs) for k, (t, lab) in enumerate(ARTICLE)]
    return write_jsonl(tmp_path / "articles.jsonl", rows)


def test_training_fits_sentences_read_in_their_windows(tmp_path, tiny_corpus, tokenizer):
    # six articles of six sentences: each window holds a whole article, so a wrong marker gather
    # (the wrong position, one logit row for the whole window) cannot tell their labels apart
    articles = _article_corpus(tmp_path, tiny_corpus)
    result = train(tiny_args(tiny_corpus, tmp_path / "run", num_train_epochs=15, early_stopping_patience=0,
                             per_device_train_batch_size=2, pairs_file=None, extra_train_files=[articles]),
                   model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    clf = StanceClassifier.from_pretrained(result["model_dir"])
    records = read_records(articles)
    preds = [clf.labels[k] for k in clf.predict_proba_records(records).argmax(1)]
    assert np.mean([p == r["label"] for p, r in zip(preds, records)]) >= 0.8


def test_window_examples_put_each_label_on_its_marker(tmp_path, tiny_corpus, tokenizer):
    from stancelib.trainer import window_examples

    records = read_records(_article_corpus(tmp_path, tiny_corpus, n_docs=2))
    args = tiny_args(tiny_corpus, tmp_path / "run")
    examples = window_examples(records, tokenizer, args, weight_of=lambda r: 1.0)
    assert len(examples) == 2  # one window per (short) article
    for ex in examples:
        assert [ex["input_ids"][p] for p in ex["sent_pos"]] == [tokenizer.cls_token_id] * len(ARTICLE)
        assert [LABELS[k] for k in ex["sent_label"]] == [lab for _, lab in ARTICLE]
    lone = window_examples(records, tokenizer, args, weight_of=lambda r: 1.0, lone_rate=1.0, seed=3)
    singles = [ex for ex in lone if len(ex["sent_pos"]) == 1]
    # every sentence also stands alone, except the rule-12 continuation, whose label is its neighbours'
    assert len(singles) == 2 * (len(ARTICLE) - 1)
    assert not any(ex["sent_label"] == [LABELS.index("attributed_statement")] and
                   tokenizer.decode(ex["input_ids"][1:-1]).startswith('" nobody') for ex in singles)
    half = window_examples(records, tokenizer, args, weight_of=lambda r: 1.0, lone_rate=0.5, seed=3)
    assert half == window_examples(records, tokenizer, args, weight_of=lambda r: 1.0, lone_rate=0.5, seed=3)
    assert 2 < len(half) < len(lone)


def test_span_head_is_trained_jointly_saved_and_used(tmp_path, tiny_corpus, tokenizer):
    args = tiny_args(tiny_corpus, tmp_path / "run", train_spans=True, extra_train_files=[_article_corpus(tmp_path, tiny_corpus)])
    result = train(args, model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    model_dir = result["model_dir"]
    assert os.path.isfile(os.path.join(model_dir, "span_head.safetensors"))
    assert not os.path.exists(os.path.join(model_dir, "spans"))  # one encoder in the folder
    assert set(result["metrics"]["dev_spans"]) == {"source", "cue"}
    clf = StanceClassifier.from_pretrained(model_dir)
    assert clf.has_spans
    text = "Storm hits coast\n\nThe ministry said 40 homes were damaged. Rain fell."
    assert all(s.source is None and s.cue is None for s in clf.analyze(text, spans=False).sentences)
    for s in clf.analyze(text).sentences:
        for span in (s.source, s.cue):
            if span:  # offsets index into the document
                assert text[span["start"]:span["end"]] == span["text"]


def test_document_model_reads_the_neighbours(tmp_path, tiny_corpus, tokenizer):
    args = tiny_args(tiny_corpus, tmp_path / "run", extra_train_files=[_article_corpus(tmp_path, tiny_corpus)],
                     lone_sentence_rate=0.3)
    clf = StanceClassifier.from_pretrained(train(args, model=make_tiny_model(tokenizer), tokenizer=tokenizer)["model_dir"])
    sentences = ["The storm destroyed 40 homes.", "\"Nobody will be left behind.\"", "Rain fell again on Monday."]
    in_doc = clf.predict_proba_documents([sentences])[0]
    alone = clf.predict_proba(sentences)
    assert not np.allclose(in_doc, alone)  # the window changes what each sentence reads
    # a document of one sentence is exactly a lone string
    assert np.allclose(clf.predict_proba_documents([[sentences[1]]])[0][0], alone[1], atol=1e-6)
    # analyze reads the same windows as predict_proba_documents
    analysis = clf.analyze(" ".join(sentences))
    assert [s.text for s in analysis.sentences] == sentences
    assert np.allclose([[s.probabilities[n] for n in clf.labels] for s in analysis.sentences], in_doc, atol=1e-4)


def test_sample_real_news_caps_named_corpora_only():
    recs = ([{"corpus": "polnear", "gold": "none", "allowed": ["a", "b"]} for _ in range(60)]
            + [{"corpus": "polnear", "gold": "attributed", "allowed": ["a"]} for _ in range(40)]
            + [{"corpus": "checkthat", "gold": "SUBJ", "allowed": ["c"]} for _ in range(30)])
    out = sample_real_news(recs, {"polnear": 10}, seed=1)
    assert sum(r["corpus"] == "checkthat" for r in out) == 30  # not named: used whole
    polnear = [r for r in out if r["corpus"] == "polnear"]
    assert len(polnear) == 10 and sum(r["gold"] == "none" for r in polnear) == 6  # strata keep their shares
    assert len(sample_real_news(recs, 50, seed=1)) == 50 and sample_real_news(recs, None, seed=1) == recs
    assert sample_real_news(recs, {"polnear": 10}, seed=1) == out  # deterministic for a seed
    with pytest.raises(ValueError, match="babe"):
        sample_real_news(recs, {"babe": 5}, seed=1)


def test_sample_real_news_draws_whole_articles():
    recs = [{"corpus": "polnear", "gold": "none", "allowed": ["a"], "doc": f"art{d}", "i": k}
            for d in range(10) for k in range(6)]
    out = sample_real_news(recs, 20, seed=3)
    docs = {r["doc"] for r in out}
    assert len(docs) == 4 and len(out) == 24  # articles are taken whole until the cap is reached
    assert all(sum(r["doc"] == d for r in out) == 6 for d in docs)
    assert sample_real_news(recs, 20, seed=3) == out


def test_news_mix_keeps_dev_out_and_scores_it(tmp_path, tiny_corpus, tokenizer, synth):  # noqa: F811
    out = tmp_path / "run"
    args = tiny_args(tiny_corpus, out, real_news=True, real_news_dir=synth, real_news_dev=True, num_train_epochs=1,
                     real_news_dev_part=False)
    train(args, model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    meta = json.load(open(out / "model" / "stancelib.json"))
    dev = meta["metrics"]["real_news_dev"]
    assert set(dev) == {"polnear-dev", "checkthat-dev"}
    assert dev["checkthat-dev"]["n"] == 2 and 0.0 <= dev["checkthat-dev"]["macro_f1"] <= 1.0
    # the real news that was trained on excludes both dev splits
    with_dev = tiny_args(tiny_corpus, tmp_path / "b", real_news=True, real_news_dir=synth, max_steps=1,
                         real_news_dev_part=False)
    train(with_dev, model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    meta_b = json.load(open(tmp_path / "b" / "model" / "stancelib.json"))
    assert meta["n_train_real_news"] < meta_b["n_train_real_news"]
    assert "real_news_dev" not in meta_b["metrics"]
    card = open(out / "model" / "README.md").read()
    assert "`checkthat-dev` (unattributed (SUBJ) vs not (OBJ), 2 sentences)" in card
    assert f"real news (news-mix): {meta['n_train_real_news']} sentences" in card and "dev kept out" in card


def test_references_balanced_within_their_corpus():
    from stancelib.trainer import example_weights

    bundled = [{"label": lab} for lab in ["neutral_report"] * 4 + ["attributed_statement"] * 4 + ["unattributed_claim"] * 4]
    # a corpus sampled for subjectivity: three in four of its references are claims
    refs = [{"label": lab, "corpus": "checkthat", "_real_news": True, "_reference": True}
            for lab in ["neutral_report"] * 2 + ["attributed_statement"] * 2 + ["unattributed_claim"] * 12]
    partial = [{"label": None, "allowed": ["neutral_report", "attributed_statement"], "corpus": "babe", "_real_news": True}]
    records = bundled + refs + partial
    _, plain = example_weights(TrainingArguments(real_news_references_weight=2.0), records)
    _, balanced = example_weights(TrainingArguments(real_news_references_weight=2.0, real_news_references_balanced=True),
                                  records)
    neutral_ref, claim_ref = refs[0], refs[-1]
    # plain: one set of class weights for all definite labels; balanced: each corpus's labels weigh the same in all
    assert plain(neutral_ref) / plain(claim_ref) == pytest.approx(16 / 6)  # 6 neutral, 16 claims in all
    assert balanced(neutral_ref) == pytest.approx(2.0 * 16 / (3 * 2)) and balanced(claim_ref) == pytest.approx(2.0 * 16 / (3 * 12))
    # the bundled corpus and the partial labels are weighed as before
    assert balanced(bundled[0]) == plain(bundled[0]) and balanced(partial[0]) == plain(partial[0])
    # a corpus whose references lack a label cannot be balanced: the error names it
    with pytest.raises(ValueError, match="no sentence labelled neutral_report in the checkthat references"):
        example_weights(TrainingArguments(real_news_references_balanced=True), bundled + refs[2:])
