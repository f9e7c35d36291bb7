import os
import json

import pytest

from stancelib import LABELS
from stancelib.cli import main


def test_predict_sentences_and_json(saved_tiny_model, capsys):
    assert main(["predict", "--model", saved_tiny_model, "Rain fell.", "The ministry said so."]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].split()[0] in LABELS
    assert main(["predict", "--model", saved_tiny_model, "--json", "Rain fell."]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["label"] in LABELS and set(rows[0]["probabilities"]) == set(LABELS)


def test_predict_file(saved_tiny_model, tmp_path, capsys):
    article = tmp_path / "a.txt"
    article.write_text("Headline here\n\nMr. Lee spoke at 9 a.m. on Monday. Critics say it failed.\n")
    assert main(["predict", "--model", saved_tiny_model, "--file", str(article), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["text"] for s in out["sentences"]] == ["Headline here", "Mr. Lee spoke at 9 a.m. on Monday.", "Critics say it failed."]
    assert main(["predict", "--model", saved_tiny_model, "--file", str(article)]) == 0
    assert "Headline here" in capsys.readouterr().out


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "none"), "x"]) == 1
    assert "model folder not found" in capsys.readouterr().err
    bad = tmp_path / "c.yaml"
    bad.write_text("epochs: 3\n")
    assert main(["train", "--config", str(bad)]) == 1
    assert "unknown setting(s) epochs" in capsys.readouterr().err


def test_evaluate_writes_reports_and_records_them(tiny_corpus, tmp_path, tokenizer, capsys):
    from stancelib import TrainingArguments, train
    from tests.conftest import make_tiny_model

    out = tmp_path / "run"
    args = TrainingArguments(backbone="unused", train_file=tiny_corpus["train"], dev_file=tiny_corpus["dev"],
                             test_file=tiny_corpus["test"], pairs_file=tiny_corpus["pairs"], output_dir=str(out),
                             max_length=32, num_train_epochs=1, per_device_train_batch_size=8,
                             model_card_dir=str(out / "cards"), train_spans=False, window_tokens=128)
    model_dir = train(args, model=make_tiny_model(tokenizer), tokenizer=tokenizer)["model_dir"]
    report_dir = tmp_path / "eval"
    before = {n: open(os.path.join(model_dir, n), "rb").read() for n in ("stancelib.json", "README.md")}
    # by default the model folder is only read
    assert main(["evaluate", "--model", model_dir, "--data", tiny_corpus["test"], "--out", str(tmp_path / "e0")]) == 0
    assert {n: open(os.path.join(model_dir, n), "rb").read() for n in before} == before
    capsys.readouterr()
    assert main(["evaluate", "--model", model_dir, "--data", tiny_corpus["test"], "--pairs", tiny_corpus["pairs"],
                 "--out", str(report_dir), "--update-card"]) == 0
    table = capsys.readouterr().out
    for system in ("rule baseline", "tfidf+lr", "stancelib (run)"):
        assert system in table
    report = json.load(open(report_dir / "report.json"))
    assert report["systems"]["tfidf+lr"]["minimal_pairs"]["n_groups"] == 1
    meta = json.load(open(f"{model_dir}/stancelib.json"))
    assert set(meta["evaluations"]["test"]["systems"]) == {"rule baseline", "tfidf+lr", "stancelib (run)"}
    card = open(f"{model_dir}/README.md").read()
    assert "### test" in card and "| tfidf+lr |" in card
    assert open(out / "cards" / "run.md").read() == card


@pytest.mark.parametrize("argv", [["predict", "--model", "m"], []])
def test_usage_errors(argv, capsys):
    if not argv:
        with pytest.raises(SystemExit):
            main(argv)
    else:
        assert main(argv) == 2


def test_evaluate_refuses_partial_labels_naming_file_and_line(tmp_path, saved_tiny_model, capsys):
    partial = tmp_path / "partial.jsonl"
    partial.write_text('{"text": "Rain fell.", "label": "neutral_report"}\n'
                       '{"text": "The team won.", "label": null, "allowed": ["neutral_report", "attributed_statement"]}\n')
    assert main(["evaluate", "--model", saved_tiny_model, "--data", str(partial), "--no-baselines",
                 "--out", str(tmp_path / "e")]) == 1
    err = capsys.readouterr().err
    assert f"{partial}:2" in err and "partial labels" in err and "one gold label per line" in err
