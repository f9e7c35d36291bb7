import json
import os

import numpy as np
import pytest

from stancelib import LABELS, ModelLoadError, StanceClassifier
from stancelib.modeling import Analysis, SentenceAnalysis, atomic_save


@pytest.fixture
def clf(saved_tiny_model):
    return StanceClassifier.from_pretrained(saved_tiny_model)


def test_saved_folder_is_a_plain_hf_model(saved_tiny_model):
    files = set(os.listdir(saved_tiny_model))
    assert {"config.json", "model.safetensors", "tokenizer.json", "stancelib.json", "README.md"} <= files
    assert not any(f.endswith((".bin", ".pkl", ".pt")) for f in files)
    config = json.load(open(os.path.join(saved_tiny_model, "config.json")))
    assert [config["id2label"][str(i)] for i in range(3)] == list(LABELS)
    assert config["label2id"] == {name: i for i, name in enumerate(LABELS)}


def test_pipeline_loads_unchanged_and_agrees_with_predict(tokenizer, tmp_path):
    """``transformers.pipeline`` reads the saved folder as a plain sequence classifier: on lone
    sentences its top label is ``predict``'s and its scores are ``predict_proba(calibrated=False)``."""
    from transformers import pipeline

    from tests.conftest import TINY, make_varied_model

    sentences = [t for texts in TINY.values() for t in texts]
    model = make_varied_model(tokenizer, sentences)  # labels that differ between the sentences
    path = str(tmp_path / "model")
    # a fitted temperature: the pipeline knows nothing of it, so only the uncalibrated scores match
    StanceClassifier(model, tokenizer, max_length=64, metadata={"calibration": {"temperature": 2.0}}).save_pretrained(path)
    clf = StanceClassifier.from_pretrained(path, device="cpu")

    pipe = pipeline("text-classification", model=path, device="cpu")
    out = pipe(sentences, top_k=None)
    assert len(out) == len(sentences)
    scores = np.array([[{o["label"]: o["score"] for o in row}[name] for name in LABELS] for row in out])
    raw = clf.predict_proba(sentences, calibrated=False)
    labels = clf.predict(sentences)
    assert len(set(labels)) == 3  # the check below is not one label compared with itself
    assert [row[0]["label"] for row in out] == labels  # top label (the pipeline sorts by score)
    assert pipe(sentences[0])[0]["label"] == clf.predict(sentences[0])
    np.testing.assert_allclose(scores, raw, atol=1e-4)
    assert not np.allclose(clf.predict_proba(sentences), raw, atol=1e-3)  # calibrated=True differs


def test_predict_single_list_and_proba(clf):
    assert clf.labels == LABELS
    one = clf.predict("The ministry said 40 people were hurt.")
    assert one in LABELS
    many = clf.predict(["A.", "The ministry said 40 people were hurt.", "Rain fell on Monday."])
    assert len(many) == 3 and many[1] == one
    probs = clf.predict_proba(["A.", "Rain fell on Monday."])
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert clf.predict_proba("Rain.").shape == (3,)
    assert [clf.labels[k] for k in probs.argmax(1)] == clf.predict(["A.", "Rain fell on Monday."])


def test_batching_and_order_do_not_change_results(clf):
    texts = [f"Sentence number {k} " + "word " * (k % 7) for k in range(23)]
    clf.batch_size = 4
    small = clf.predict_proba(texts)
    clf.batch_size = 64
    np.testing.assert_allclose(small, clf.predict_proba(texts), atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(texts[::-1])[::-1], small, atol=1e-5)


@pytest.mark.parametrize("bad", [None, 3, b"bytes", {"text": "x"}])
def test_wrong_types_raise_type_error(clf, bad):
    with pytest.raises(TypeError):
        clf.predict(bad)


def test_non_string_item_is_named(clf):
    with pytest.raises(TypeError, match="item 1 is NoneType"):
        clf.predict(["Rain fell.", None])


def test_blank_strings_get_none_and_do_not_break_the_batch(clf):
    texts = ["Rain fell.", "", "   \n", "The ministry said 40 people were hurt."]
    labels = clf.predict(texts)
    probs = clf.predict_proba(texts)
    assert labels[1] is None and labels[2] is None
    assert np.isnan(probs[1]).all() and np.isnan(probs[2]).all()
    assert labels[0] == clf.predict("Rain fell.") and labels[3] == clf.predict(texts[3])
    assert clf.predict("") is None


def test_long_and_non_english_text_are_labelled(clf):
    long_text = "The ministry said prices rose. " * 3300  # about 100,000 characters
    assert len(long_text) > 99_000
    labels = clf.predict([long_text, "Die Regierung hat am Montag neue Steuern beschlossen.", "政府周一宣布了新税。"])
    assert all(lab in LABELS for lab in labels)
    # truncation: the long text is labelled from its first max_length tokens
    np.testing.assert_allclose(clf.predict_proba(long_text), clf.predict_proba(long_text[:2000]), atol=1e-5)


def test_analyze_offsets_counts_and_shares(clf):
    text = "Storm hits coast\n\nThe storm hit at 9 a.m. on Monday. Officials said 40 homes were damaged.\n"
    result = clf.analyze(text)
    assert [s.text for s in result.sentences] == [
        "Storm hits coast", "The storm hit at 9 a.m. on Monday.", "Officials said 40 homes were damaged."]
    for s in result.sentences:
        assert text[s.start:s.end] == s.text and s.label in LABELS
        assert abs(sum(s.probabilities.values()) - 1) < 1e-3
    assert sum(result.counts.values()) == 3 and abs(sum(result.shares.values()) - 1) < 1e-9
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict))["counts"] == result.counts
    assert "Storm hits coast" in result.to_table()
    empty = clf.analyze("   ")
    assert empty.sentences == [] and empty.shares["neutral_report"] == 0.0
    with pytest.raises(TypeError):
        clf.analyze(None)


def test_sourcing_profile_follows_pronouns_and_quote_continuations():
    # rule 11: "she said" counts for the last named source; rule 12: an attributed sentence with
    # no source inside (a quote continuation) counts for the speaker of the sentence before it
    def sentence(label, source=None):
        span = {"start": 0, "end": len(source), "text": source} if source else None
        return SentenceAnalysis(0, 1, "x", label, {}, span, None)

    result = Analysis([
        sentence("attributed_statement", "Mayor Ortiz"),
        sentence("attributed_statement"),            # continuation: Ortiz
        sentence("attributed_statement", "she"),     # pronoun: Ortiz
        sentence("attributed_statement"),            # continuation of the pronoun's quote: Ortiz
        sentence("neutral_report"),
        sentence("attributed_statement"),            # after a neutral sentence: no known source
        sentence("attributed_statement", "The ministry"),
        sentence("unattributed_claim"),
    ])
    assert result.sources == [{"source": "Mayor Ortiz", "statements": 4}, {"source": "The ministry", "statements": 1}]


def test_missing_folder_and_missing_files(tmp_path, saved_tiny_model):
    with pytest.raises(ModelLoadError, match="model folder not found"):
        StanceClassifier.from_pretrained(str(tmp_path / "nothing"))
    os.remove(os.path.join(saved_tiny_model, "model.safetensors"))
    with open(os.path.join(saved_tiny_model, "pytorch_model.bin"), "wb") as f:
        f.write(b"not loaded")
    with pytest.raises(ModelLoadError, match=r"missing model\.safetensors.*pickled weights .* never loaded"):
        StanceClassifier.from_pretrained(saved_tiny_model)


def test_corrupt_weights_give_a_clear_error(saved_tiny_model):
    with open(os.path.join(saved_tiny_model, "model.safetensors"), "wb") as f:
        f.write(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match="could not load the model"):
        StanceClassifier.from_pretrained(saved_tiny_model)


def test_interrupted_save_leaves_no_loadable_half_folder(tmp_path, clf):
    parent = tmp_path / "out"
    target = str(parent / "model")

    def write_then_fail(tmp):
        clf.model.encoder.save_pretrained(tmp)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_save(write_then_fail, target)
    assert not os.path.exists(target) and os.listdir(parent) == []
    # an existing model survives a failed overwrite
    clf.save_pretrained(target)
    with pytest.raises(KeyboardInterrupt):
        atomic_save(write_then_fail, target)
    assert StanceClassifier.from_pretrained(target).labels == LABELS


def test_min_confidence_and_calibration(clf):
    texts = ["Rain fell.", "The ministry said 40 people were hurt.", ""]
    probs = clf.predict_proba(texts)
    top = np.nanmax(probs[:2], axis=1)
    assert clf.predict(texts, min_confidence=0.0)[:2] == clf.predict(texts[:2])
    labels = clf.predict(texts, min_confidence=float(top.max()) + 1e-6)
    assert labels == ["uncertain", "uncertain", None]
    with pytest.raises(ValueError):
        clf.predict(texts, min_confidence=1.5)
    clf.temperature = 3.0
    softer = clf.predict_proba(texts[:2])
    raw = clf.predict_proba(texts[:2], calibrated=False)
    assert (softer.argmax(1) == raw.argmax(1)).all() and (softer.max(1) <= raw.max(1) + 1e-6).all()
