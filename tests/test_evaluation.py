import json
import os

import numpy as np

import pytest

from stancelib.evaluation import classification_scores, evaluate_system, format_table, minimal_pair_scores, write_reports

N, A, U = "neutral_report", "attributed_statement", "unattributed_claim"


def test_classification_scores_by_hand():
    y_true = [N, N, A, A, U, U]
    y_pred = [N, A, A, A, U, N]
    s = classification_scores(y_true, y_pred)
    assert s["accuracy"] == pytest.approx(4 / 6)
    # neutral: P 1/2 R 1/2; attributed: P 2/3 R 1; unattributed: P 1 R 1/2
    assert s["per_class"][N]["f1"] == pytest.approx(0.5)
    assert s["per_class"][A]["f1"] == pytest.approx(0.8)
    assert s["per_class"][U]["f1"] == pytest.approx(2 / 3)
    assert s["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert s["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_minimal_pair_scores():
    recs = [{"doc": g, "label": lab} for g in ("g1", "g2") for lab in (N, A, U)]
    preds = [N, A, U, N, A, N]
    s = minimal_pair_scores(recs, preds)
    assert s["n_groups"] == 2 and s["accuracy"] == pytest.approx(5 / 6)
    assert s["groups_all_correct"] == pytest.approx(0.5)
    assert s["recall_per_label"][U] == pytest.approx(0.5)


class Always:
    def __init__(self, label):
        self.label = label

    def predict(self, texts):
        return [self.label for _ in texts]


def test_reports_and_table(tmp_path):
    recs = [{"text": "x", "label": N, "doc": "g"}, {"text": "y", "label": A, "doc": "g"}, {"text": "z", "label": U, "doc": "g"}]
    reports = {"always neutral": evaluate_system(Always(N), recs, recs), "always claim": evaluate_system(Always(U), recs)}
    table = write_reports(reports, str(tmp_path), {"title": "t"})
    lines = table.splitlines()
    assert lines[0] == "t" and lines[1].split()[:3] == ["system", "macro-F1", "accuracy"]
    # columns end with: pairs accuracy, ECE ("-" for a system without probabilities)
    assert "always neutral" in lines[3] and lines[3].split()[-2:] == ["0.333", "-"] and lines[4].split()[-2:] == ["-", "-"]
    saved = json.load(open(tmp_path / "report.json"))
    assert saved["systems"]["always claim"]["accuracy"] == pytest.approx(1 / 3)
    assert os.path.getsize(tmp_path / "confusion_always_neutral.png") > 1000
    assert open(tmp_path / "report.txt").read().strip() == table
    assert format_table(reports).splitlines()[0].startswith("system")


class Confident:
    """Always 90% sure of the true label's neighbour: wrong and over-confident."""

    labels = (U, N, A)  # a different column order, to check that reports reorder it
    temperature = 2.0

    def predict_proba(self, texts):
        return np.array([[0.05, 0.9, 0.05] for _ in texts])

    def predict(self, texts):
        return [N for _ in texts]


def test_evaluate_system_uses_probabilities_in_the_systems_label_order():
    recs = [{"text": "x", "label": N, "doc": "g"}, {"text": "y", "label": A, "doc": "g"}]
    rep = evaluate_system(Confident(), recs)
    assert rep["accuracy"] == pytest.approx(0.5)
    cal = rep["calibration"]
    assert cal["ece"] == pytest.approx(abs(0.5 - 0.9))
    assert cal["temperature"] == 2.0 and cal["ece_uncalibrated"] > cal["ece"]  # T=2 had softened a sharper raw model


def test_binary_scores_and_bootstrap():
    from stancelib.evaluation import binary_scores, bootstrap_ci

    gold = [True, True, False, False, False]
    pred = [True, False, True, False, False]
    s = binary_scores(gold, pred)
    assert s["precision"] == 0.5 and s["recall"] == 0.5 and s["f1"] == 0.5
    assert s["f1_negative"] == pytest.approx(2 / 3) and s["false_positive_rate"] == pytest.approx(1 / 3)
    lo, hi = bootstrap_ci(gold * 20, pred * 20, "f1", n_resamples=200)
    assert lo <= 0.5 <= hi and hi - lo < 0.5
    assert bootstrap_ci(gold * 20, gold * 20, "f1", n_resamples=50) == (1.0, 1.0)


SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


@pytest.mark.shared_data
def test_real_news_evaluation_with_the_rule_baseline():
    if not os.path.isdir(SHARED):
        pytest.skip("../shared/data is not here")
    from stancelib import RuleBaseline
    from stancelib.evaluation import evaluate_real_news, format_real_news_table

    results = evaluate_real_news({"rule": RuleBaseline()}, ["checkthat-dev_test"], SHARED, n_resamples=50)
    sc = results["checkthat-dev_test"]["rule"]
    assert sc["n"] == 484 and sc["positives"] == 122
    assert 0 < sc["macro_f1"] < 1 and sc["macro_f1_ci95"][0] <= sc["macro_f1"] <= sc["macro_f1_ci95"][1]
    assert "checkthat-dev_test" in format_real_news_table(results)


@pytest.mark.shared_data
def test_real_news_dev_sets_are_the_tuning_splits():
    if not os.path.isdir(SHARED):
        pytest.skip("../shared/data is not here")
    from stancelib import RuleBaseline
    from stancelib.evaluation import REAL_NEWS_DEV_SETS, REAL_NEWS_SETS, evaluate_real_news

    assert not set(REAL_NEWS_DEV_SETS) & set(REAL_NEWS_SETS)
    results = evaluate_real_news({"rule": RuleBaseline()}, ["checkthat-dev"], SHARED, n_resamples=20)
    sc = results["checkthat-dev"]["rule"]
    assert sc["n"] == 462 and sc["positives"] == 240 and "SUBJ" in sc["meaning"]
