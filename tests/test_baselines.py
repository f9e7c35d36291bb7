import numpy as np

from stancelib import LABELS, RuleBaseline, TfidfBaseline
from tests.conftest import TINY


def test_rule_baseline_follows_rule_order():
    rb = RuleBaseline().fit()
    assert rb.predict_one("The ministry said 40 people were hurt.") == "attributed_statement"
    assert rb.predict_one("Officials, speaking on condition of anonymity, said talks had collapsed.") == "unattributed_claim"
    assert rb.predict_one("Critics say the plan is doomed.") == "unattributed_claim"
    assert rb.predict_one("The reckless decision cost millions.") == "unattributed_claim"
    assert rb.predict_one("The bridge reopened on Monday.") == "neutral_report"
    assert rb.predict_proba(["Rain fell."]).tolist() == [[1.0, 0.0, 0.0]]


def test_tfidf_baseline_learns_the_training_set():
    texts = [t for ts in TINY.values() for t in ts]
    labels = [lab for lab, ts in TINY.items() for _ in ts]
    model = TfidfBaseline().fit(texts, labels)
    probs = model.predict_proba(texts)
    assert probs.shape == (len(texts), 3) and np.allclose(probs.sum(1), 1)
    acc = np.mean([p == y for p, y in zip(model.predict(texts), labels)])
    assert acc > 0.9
    assert set(model.predict(["anything at all"])) <= set(LABELS)
