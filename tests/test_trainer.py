import json
import os

import numpy as np
import pytest
from safetensors.numpy import load_file

from stancelib import LABELS, StanceClassifier, TrainingArguments
from stancelib.data import DataError
from stancelib.trainer import class_weights, load_training_data, sample_real_news, train
from tests.conftest import make_tiny_model, write_jsonl
from tests.test_corpora import synth  # noqa: F401 - the synthetic real-news corpora fixture (pyflakes: used)

def tiny_args(tiny_corpus, out, **kw):
    values = dict(
        backbone="unused", train_file=tiny_corpus["train"], dev_file=tiny_corpus["dev"],
        test_file=tiny_corpus["test"], pairs_file=tiny_corpus["pairs"], output_dir=str(out),
        max_length=32, num_train_epochs=2, per_device_train_batch_size=8, learning_rate=1e-3,
        logging_steps=1, model_card_dir=str(out / "cards"), seed=7, train_spans=False,
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
    assert 0.0 <= meta["metrics"]["dev"]["macro_f1"] <= 1.0
    assert meta["n_dev"] == 6 + 3 and meta["metrics"]["dev_minimal_pairs"]["n_groups"] == 1
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


def test_span_head_is_trained_saved_and_used(tmp_path, tiny_corpus, tokenizer):
    args = tiny_args(tiny_corpus, tmp_path / "run", train_spans=True, span_epochs=1)
    result = train(args, model=make_tiny_model(tokenizer), tokenizer=tokenizer,
                   span_model=make_tiny_model(tokenizer, head="token"))
    assert os.path.isfile(os.path.join(result["model_dir"], "spans", "model.safetensors"))
    assert set(result["metrics"]["dev_spans"]) == {"source", "cue"}
    clf = StanceClassifier.from_pretrained(result["model_dir"])
    assert clf.span_tagger is not None
    text = "Storm hits coast\n\nThe ministry said 40 homes were damaged. Rain fell."
    assert all(s.source is None and s.cue is None for s in clf.analyze(text, spans=False).sentences)
    analysis = clf.analyze(text)
    for s in analysis.sentences:
        for span in (s.source, s.cue):
            if span:  # offsets index into the document
                assert text[span["start"]:span["end"]] == span["text"] and s.start <= span["start"] < span["end"] <= s.end


def test_context_aware_model_reads_neighbours(tmp_path, tiny_corpus, tokenizer):
    result = train(tiny_args(tiny_corpus, tmp_path / "run", context=True), model=make_tiny_model(tokenizer),
                   tokenizer=tokenizer)
    clf = StanceClassifier.from_pretrained(result["model_dir"])
    assert clf.uses_context
    text = '"We will rebuild," the mayor said.'
    alone = clf.predict_proba([text])
    with_context = clf.predict_proba([text], contexts=["The storm destroyed 40 homes. Rain fell again on Monday."])
    assert not np.array_equal(alone, with_context)
    # analyze passes each sentence's neighbours
    seen = []
    real_logits = clf._logits
    clf._logits = lambda texts, show_progress=None, contexts=None: seen.append(contexts) or real_logits(texts, show_progress, contexts)
    clf.analyze("Flood hits town\n\n" + text + " Rain fell.")
    assert seen == [[text, "Flood hits town Rain fell.", text]]
    with pytest.raises(ValueError, match="contexts for"):
        clf.predict_proba([text, text], contexts=["only one"])


def test_context_window_two_reads_two_sentences_each_side(tmp_path, tiny_corpus, tokenizer):
    result = train(tiny_args(tiny_corpus, tmp_path / "run", context=True, context_window=2, context_dropout=0.3,
                             max_steps=1),
                   model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    clf = StanceClassifier.from_pretrained(result["model_dir"])
    assert clf.context_window == 2
    card = open(os.path.join(result["model_dir"], "README.md")).read()
    assert "2 sentence(s) on each side" in card and "30% of training sentences read alone" in card
    seen = []
    real_logits = clf._logits
    clf._logits = lambda texts, show_progress=None, contexts=None: seen.append(contexts) or real_logits(texts, show_progress, contexts)
    clf.analyze("Rain fell. Wind rose. Snow came. Sun shone.")
    assert seen == [["Wind rose. Snow came.", "Rain fell. Snow came. Sun shone.", "Rain fell. Wind rose. Sun shone.",
                     "Wind rose. Snow came."]]
    with pytest.raises(ValueError, match="context_window"):
        tiny_args(tiny_corpus, tmp_path / "x", context=True, context_window=4)


def test_context_dropout_empties_some_contexts_but_never_a_quote_continuations(tmp_path, tiny_corpus):
    from stancelib.trainer import _contexts

    records = [{"doc": "d", "i": k, "text": f"Sentence {k}.", "label": "neutral_report",
                "hard": "rule 12: quote continuation" if k % 4 == 0 else ""} for k in range(400)]
    args = tiny_args(tiny_corpus, tmp_path / "run", context=True, context_dropout=0.5)
    full = _contexts(records, args)
    dropped = _contexts(records, args, dropout=0.5)
    assert dropped == _contexts(records, args, dropout=0.5)  # the same seed drops the same sentences
    emptied = [k for k, (a, b) in enumerate(zip(full, dropped)) if a and not b]
    assert 0.4 < len(emptied) / 300 < 0.6  # about half of the 300 that may be dropped
    assert not [k for k in emptied if k % 4 == 0]  # rule-12 continuations keep their neighbours
    assert all(b in ("", a) for a, b in zip(full, dropped))
    assert _contexts(records, args) == full and all(full)
    with pytest.raises(ValueError, match="context_dropout"):
        tiny_args(tiny_corpus, tmp_path / "x", context=True, context_dropout=1.0)


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


def test_news_mix_keeps_dev_out_and_scores_it(tmp_path, tiny_corpus, tokenizer, synth):  # noqa: F811
    out = tmp_path / "run"
    args = tiny_args(tiny_corpus, out, real_news=True, real_news_dir=synth, real_news_dev=True, num_train_epochs=1)
    train(args, model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    meta = json.load(open(out / "model" / "stancelib.json"))
    dev = meta["metrics"]["real_news_dev"]
    assert set(dev) == {"polnear-dev", "checkthat-dev"}
    assert dev["checkthat-dev"]["n"] == 2 and 0.0 <= dev["checkthat-dev"]["macro_f1"] <= 1.0
    # the real news that was trained on excludes both dev splits
    with_dev = tiny_args(tiny_corpus, tmp_path / "b", real_news=True, real_news_dir=synth, max_steps=1)
    train(with_dev, model=make_tiny_model(tokenizer), tokenizer=tokenizer)
    meta_b = json.load(open(tmp_path / "b" / "model" / "stancelib.json"))
    assert meta["n_train_real_news"] < meta_b["n_train_real_news"]
    assert "real_news_dev" not in meta_b["metrics"]
    card = open(out / "model" / "README.md").read()
    assert "`checkthat-dev` (unattributed (SUBJ) vs not (OBJ), 2 sentences)" in card
    assert f"real news (news-mix): {meta['n_train_real_news']} sentences" in card and "dev kept out" in card
