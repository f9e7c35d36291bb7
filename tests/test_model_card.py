"""The model card: rendered from a run's metadata only, readable by someone on another machine."""

import os

from stancelib.labels import LABELS
from stancelib.model_card import render_model_card, write_model_card_copy


def _meta(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = str(tmp_path / "data" / "corpus" / "train.jsonl")
    return {
        "run_name": "tiny", "stancelib_version": "0", "created": "2026-12-03",
        "training_args": {"backbone": "minilm-l6", "max_length": 64, "window_tokens": 256,
                          "extra_train_files": [str(tmp_path / "data" / "corpus" / "genre_train.jsonl")]},
        "data": {inside: {"sha256": "ab" * 32}, "/elsewhere/outside.jsonl": {"sha256": "cd" * 32}},
        "metrics": {"dev": {"macro_f1": 0.91, "accuracy": 0.92}},
        "calibration": {"temperature": 2.0, "fitted_on": "dev", "n": 10, "ece_before": 0.2, "ece_after": 0.05,
                        "ece_after_two_fold": 0.07},
    }


def test_card_names_every_label_and_quotes_the_run(tmp_path, monkeypatch):
    card = render_model_card(_meta(tmp_path, monkeypatch))
    assert card.startswith("---\nlibrary_name: transformers")
    assert all(f"`{name}`" in card for name in LABELS)
    assert "macro-F1 0.910" in card and "temperature 2.000" in card
    assert "No held-out evaluation recorded yet" in card


def test_data_paths_inside_the_project_are_shown_relative(tmp_path, monkeypatch):
    card = render_model_card(_meta(tmp_path, monkeypatch))
    assert "`data/corpus/train.jsonl`: `abababababababab`" in card
    assert "`data/corpus/genre_train.jsonl`" in card
    assert str(tmp_path) not in card
    assert "`/elsewhere/outside.jsonl`" in card  # outside the working folder: kept whole, not a ../../ chain


def test_card_copy_is_named_after_the_run(tmp_path, monkeypatch):
    meta = _meta(tmp_path, monkeypatch)
    path = write_model_card_copy(meta, str(tmp_path / "cards"))
    assert path == str(tmp_path / "cards" / "tiny.md")
    assert open(path).read() == render_model_card(meta)
    assert write_model_card_copy(meta, None) is None and not os.path.exists(tmp_path / "cards" / "None.md")
