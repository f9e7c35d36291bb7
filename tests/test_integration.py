"""One end-to-end run on the real packaged backbone (all-MiniLM-L6-v2), offline."""

import json
import os

import pytest

from stancelib import LABELS, StanceClassifier, TrainingArguments, train


@pytest.mark.integration
def test_finetune_packaged_backbone_round_trip(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "run"
    args = TrainingArguments(backbone="minilm-l6", train_file=tiny_corpus["train"], dev_file=tiny_corpus["dev"],
                             test_file=tiny_corpus["test"], pairs_file=tiny_corpus["pairs"], output_dir=str(out),
                             max_length=48, num_train_epochs=1, max_steps=4, per_device_train_batch_size=8,
                             model_card_dir=None, span_epochs=1)
    result = train(args)
    model_dir = result["model_dir"]
    config = json.load(open(os.path.join(model_dir, "config.json")))
    assert config["id2label"] == {str(i): name for i, name in enumerate(LABELS)}

    clf = StanceClassifier.from_pretrained(model_dir)
    texts = ["The ministry said 40 people were hurt.", "Rain fell on Monday.", "Critics say it will fail."]
    labels = clf.predict(texts)
    assert all(lab in LABELS for lab in labels)

    from transformers import pipeline

    pipe = pipeline("text-classification", model=model_dir)
    assert [o["label"] for o in pipe(texts)] == labels
