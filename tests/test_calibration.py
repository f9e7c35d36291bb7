import numpy as np
import pytest

from stancelib.calibration import expected_calibration_error, fit_temperature, softmax


def test_softmax_and_temperature_keep_the_argmax():
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 3.0, 1.0]])
    for t in (0.5, 1.0, 4.0):
        p = softmax(logits, t)
        assert np.allclose(p.sum(1), 1) and (p.argmax(1) == logits.argmax(1)).all()
    assert softmax(logits, 4.0).max() < softmax(logits, 1.0).max()


def test_fit_temperature_recovers_overconfidence():
    rng = np.random.default_rng(0)
    n = 4000
    true_logits = rng.normal(size=(n, 3)) * 1.5
    labels = np.array([rng.choice(3, p=p) for p in softmax(true_logits)])
    # a model 3x over-confident: its logits are the calibrated ones times 3
    t = fit_temperature(true_logits * 3.0, labels)
    assert t == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(softmax(true_logits * 3.0), labels)
    after = expected_calibration_error(softmax(true_logits * 3.0, t), labels)
    assert after < before and after < 0.05


def test_ece_by_hand():
    probs = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])
    labels = np.array([0, 1, 0, 1])
    # bins: 0.9 (two items, one right: |0.5 - 0.9|), 0.6 (right: |1 - 0.6|), 0.7 (right: |1 - 0.7|)
    expected = 0.5 * 0.4 + 0.25 * 0.4 + 0.25 * 0.3
    assert expected_calibration_error(probs, labels) == pytest.approx(expected)
    assert np.isnan(expected_calibration_error(np.zeros((0, 3)), np.array([])))
