import numpy as np
import pytest

from stancelib import LABELS, RuleBaseline, TfidfBaseline
from tests.conftest import TINY

TEXTS = [t for ts in TINY.values() for t in ts]
GOLD = [lab for lab, ts in TINY.items() for _ in ts]


def test_rule_baseline_follows_rule_order():
    rb = RuleBaseline().fit()
    assert rb.predict_one("The ministry said 40 people were hurt.") == "attributed_statement"
    assert rb.predict_one("Officials, speaking on condition of anonymity, said talks had collapsed.") == "unattributed_claim"
    assert rb.predict_one("Critics say the plan is doomed.") == "unattributed_claim"
    assert rb.predict_one("The reckless decision cost millions.") == "unattributed_claim"
    assert rb.predict_one("The bridge reopened on Monday.") == "neutral_report"
    assert rb.predict_proba(["Rain fell."]).tolist() == [[1.0, 0.0, 0.0]]


@pytest.mark.parametrize("text, label", [
    # a named source with a cue: attributed
    ("X said prices rose.", "attributed_statement"),
    ("Mayor Ana Ortiz said the bridge would reopen.", "attributed_statement"),
    ("According to the central bank, inflation will slow.", "attributed_statement"),
    ('"We will rebuild," the mayor told reporters.', "attributed_statement"),  # opening quote
    # a vague source wins over the cue it carries (rule 8 order): a claim
    ("Critics say the plan is doomed to fail.", "unattributed_claim"),
    ("Sources said the deal was all but done.", "unattributed_claim"),
    ("It is believed the talks failed.", "unattributed_claim"),
    # judgement, hedge, question without a source: a claim
    ("The move is likely an attempt to distract.", "unattributed_claim"),
    ("Is this the best the government can do?", "unattributed_claim"),
    # a plain event: neutral
    ("The council met on Tuesday.", "neutral_report"),
    ("Police closed the road for two hours.", "neutral_report"),
])
def test_rule_baseline_labels(text, label):
    rb = RuleBaseline()
    assert rb.predict_one(text) == label
    assert rb.predict([text]) == [label]
    # predict_proba is one-hot on the same label, in LABELS order
    assert rb.predict_proba([text]).tolist() == [[float(name == label) for name in LABELS]]


def test_rule_baseline_gets_the_tiny_corpus_right():
    # every sentence of conftest's corpus was written to one rule: a wrong lexicon or order misses some
    assert RuleBaseline().predict(TEXTS) == GOLD


def test_tfidf_baseline_learns_the_training_set():
    model = TfidfBaseline().fit(TEXTS, GOLD)
    probs = model.predict_proba(TEXTS)
    assert probs.shape == (len(TEXTS), 3) and np.allclose(probs.sum(1), 1)
    predicted = model.predict(TEXTS)
    acc = np.mean([p == y for p, y in zip(predicted, GOLD)])
    assert acc >= 0.9
    # columns are in LABELS order (sklearn sorts its classes otherwise): predict is their argmax,
    # and the gold label's column is the most probable on (nearly) every training sentence
    assert predicted == [LABELS[k] for k in probs.argmax(1)]
    gold_cols = np.array([LABELS.index(y) for y in GOLD])
    assert np.mean(probs.argmax(1) == gold_cols) >= 0.9
    assert set(predicted) == set(LABELS)  # not one label for everything
    # near neighbours of training sentences take their label
    assert model.predict(["The ministry said 12 people were hurt.", "Critics say the decision is reckless.",
                          "The team won 2-0 on Sunday."]) == ["attributed_statement", "unattributed_claim",
                                                              "neutral_report"]


def test_tfidf_baseline_does_not_depend_on_the_order_of_the_training_rows():
    shuffled = np.random.default_rng(0).permutation(len(TEXTS))
    a = TfidfBaseline().fit(TEXTS, GOLD)
    b = TfidfBaseline().fit([TEXTS[k] for k in shuffled], [GOLD[k] for k in shuffled])
    probe = ["The ministry said 12 people were hurt.", "Rain fell across the south on Monday."]
    assert a.predict(probe) == b.predict(probe)
