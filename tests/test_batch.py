"""Corpus prediction (stancelib.batch): formats, shards + merge, resume after a crash or a
SIGKILL, bad rows, documents mode, predict_dataset, the CLI pieces.

The model is a tiny random BERT whose classifier is rescaled and centred so that it gives all
three labels with clear margins (an untouched random head labels every text alike, which
would make "same labels" checks empty).
"""

import argparse
import csv
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stancelib import atomic

from stancelib import LABELS, StanceClassifier
from stancelib.batch import (PROB_COLUMNS, CorpusError, add_corpus_arguments, merge_outputs, predict_columns,
                             predict_dataset, predict_file, register_cli, run_corpus_predict)
from tests.conftest import TINY, make_tiny_model, make_varied_model, write_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENTENCES = [s for texts in TINY.values() for s in texts]


def corpus(n):
    return [f"{SENTENCES[k % len(SENTENCES)]} ({k})" for k in range(n)]


@pytest.fixture(scope="module")
def clf(tokenizer):
    model = make_varied_model(tokenizer, SENTENCES)  # all three labels among SENTENCES
    return StanceClassifier(model, tokenizer, max_length=64, metadata={"run_name": "batch-test"})


@pytest.fixture(scope="module")
def model_dir(clf, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("model") / "model")
    clf.save_pretrained(path)
    return path


def table_of(path):
    t = pq.read_table(path) if os.path.isfile(path) else pq.read_table(path).sort_by("row")
    return t.replace_schema_metadata(None)


def probs_of(t):
    return np.stack([np.asarray(t.column(c).to_numpy(zero_copy_only=False), dtype=float) for c in PROB_COLUMNS], axis=1)


def assert_labels(labels, probs, expected_probs):
    """Labels are the argmax of their own probabilities, and equal the expected argmax
    wherever the expected top two are not a near tie (float noise of other batchings)."""
    top2 = np.sort(expected_probs, axis=1)[:, -2:]
    for k, (lab, p, e, (second, first)) in enumerate(zip(labels, probs, expected_probs, top2)):
        assert lab == LABELS[int(p.argmax())], k
        if first - second > 1e-5:
            assert lab == LABELS[int(e.argmax())], k


def assert_matches_model(t, clf, texts):
    """Output rows 0..n-1 hold texts[row] with clf's own predictions."""
    assert t.column("row").to_pylist() == list(range(len(texts)))
    assert t.column("text").to_pylist() == texts
    expected = clf.predict_proba(texts)
    np.testing.assert_allclose(probs_of(t), expected, atol=1e-5)
    assert_labels(t.column("label").to_pylist(), probs_of(t), expected)


def assert_same_output(a, b):
    """Two outputs of one input: same rows, ids, texts, errors; the same predictions up to
    float noise (the batches differ between a single run and shards)."""
    assert a.schema == b.schema
    for name in a.schema.names:
        if name not in PROB_COLUMNS and name != "label":
            assert a.column(name).to_pylist() == b.column(name).to_pylist(), name
    pa_, pb = probs_of(a), probs_of(b)
    np.testing.assert_array_equal(np.isnan(pa_), np.isnan(pb))
    np.testing.assert_allclose(np.nan_to_num(pa_), np.nan_to_num(pb), atol=1e-5)
    ok = ~np.isnan(pb).any(axis=1)
    la, lb = np.array(a.column("label").to_pylist()), np.array(b.column("label").to_pylist())
    assert (la[~ok] == None).all() and (lb[~ok] == None).all()  # noqa: E711
    assert_labels(list(la[ok]), pa_[ok], pb[ok])


# ---- formats -------------------------------------------------------------------

def write_input(fmt, path, texts, ids):
    if fmt in ("jsonl", "jsonl.gz"):
        lines = "".join(json.dumps({"id": i, "body": t}) + "\n" for i, t in zip(ids, texts))
        if fmt == "jsonl":
            path.write_text(lines)
        else:
            with gzip.open(path, "wt", encoding="utf-8") as f:
                f.write(lines)
    elif fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "body"])
            w.writerows(zip(ids, texts))
    elif fmt == "parquet":
        pq.write_table(pa.table({"id": ids, "body": texts}), path, row_group_size=4)
    elif fmt == "datasets":
        import datasets

        datasets.Dataset.from_dict({"id": ids, "body": texts}).save_to_disk(str(path))
    return str(path)


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "csv", "parquet", "datasets"])
def test_each_format(fmt, clf, tmp_path):
    texts = corpus(23)
    texts[5] = 'She said: "yes, no",\nthen left.'  # quotes, a comma and a newline inside a CSV field
    src = write_input(fmt, tmp_path / f"in.{fmt}", texts, list(range(100, 123)))
    summary = predict_file(clf, src, str(tmp_path / "out"), text_column="body", id_column="id",
                           batch_size=5, show_progress=False)
    assert summary["complete"] and summary["parts"] == 5 and summary["input_rows"] == 23 and summary["errors"] == 0
    t = table_of(str(tmp_path / "out"))
    assert t.schema.names == ["row", "id", "text", "label", *PROB_COLUMNS, "error"]
    assert_matches_model(t, clf, texts)
    ids = t.column("id").to_pylist()
    # typed inputs keep the id's type; JSONL/CSV ids are strings
    assert ids == (list(range(100, 123)) if fmt in ("parquet", "datasets") else [str(i) for i in range(100, 123)])
    assert t.column("error").null_count == 23


def test_wrong_column_is_a_clear_error(clf, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [{"sentence": "Rain fell."}])
    with pytest.raises(CorpusError, match=r"none of the first 1 records has the field\(s\) 'text'.*fields seen: sentence"):
        predict_file(clf, src, str(tmp_path / "out"), show_progress=False)
    pq.write_table(pa.table({"text": [1, 2]}), tmp_path / "n.parquet")
    with pytest.raises(CorpusError, match="holds int64, not text"):
        predict_file(clf, str(tmp_path / "n.parquet"), str(tmp_path / "out2"), show_progress=False)
    (tmp_path / "in.txt").write_text("Rain fell.\n")
    with pytest.raises(CorpusError, match="unknown input format"):
        predict_file(clf, str(tmp_path / "in.txt"), str(tmp_path / "out3"), show_progress=False)


# ---- shards and merge ------------------------------------------------------------

def mixed_jsonl(path, n):
    """n rows with a blank text and a few bad ones among them."""
    texts = corpus(n)
    lines = [json.dumps({"text": t, "id": f"d{k}"}) for k, t in enumerate(texts)]
    bad = {3: json.dumps({"text": "   ", "id": "d3"}), 10: json.dumps({"text": None, "id": "d10"}), 17: "{not json"}
    for k, line in bad.items():
        if k < n:
            lines[k] = line
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_shards_and_merge_reproduce_one_worker(clf, tmp_path):
    src = mixed_jsonl(tmp_path / "in.jsonl", 61)
    predict_file(clf, src, str(tmp_path / "single"), id_column="id", batch_size=8, show_progress=False)
    merge_outputs([str(tmp_path / "single")], str(tmp_path / "single.parquet"))
    for i in range(3):
        s = predict_file(clf, src, str(tmp_path / "shards" / f"s{i}"), id_column="id", shard=(i, 3),
                         batch_size=8, show_progress=False)
        assert s["rows_done"] == len(range(i, 61, 3)) and s["input_rows"] == 61
    assert set(table_of(str(tmp_path / "shards" / "s1")).column("row").to_pylist()) == set(range(1, 61, 3))
    result = merge_outputs([str(tmp_path / "shards")], str(tmp_path / "merged.parquet"))  # the parent folder
    assert result == {"output": str(tmp_path / "merged.parquet"), "rows": 61, "input_rows": 61,
                      "completeness_checked": True, "sources": 3 + 3 + 3}
    single, merged = table_of(str(tmp_path / "single.parquet")), table_of(str(tmp_path / "merged.parquet"))
    assert merged.column("row").to_pylist() == list(range(61))
    assert_same_output(merged, single)
    assert merged.column("label").to_pylist()[3] is None and merged.column("error").to_pylist()[3] is None
    assert merged.column("error").to_pylist()[10] == "text is missing (null)"

    # what merge refuses
    s = [str(tmp_path / "shards" / f"s{i}") for i in range(3)]
    with pytest.raises(CorpusError, match="missing shard"):
        merge_outputs(s[:2], str(tmp_path / "x.parquet"))
    with pytest.raises(CorpusError, match="shard 0/3 given twice"):
        merge_outputs(s + [s[0]], str(tmp_path / "x.parquet"))
    with pytest.raises(CorpusError, match="duplicate rows: 0, 3, 6"):
        merge_outputs(s + [os.path.join(s[0], "part-00000.parquet")], str(tmp_path / "x.parquet"))
    with pytest.raises(CorpusError, match="different shard counts"):
        merge_outputs(s[1:] + [str(tmp_path / "single")], str(tmp_path / "x.parquet"))
    predict_file(clf, src, str(tmp_path / "noid"), shard=(0, 3), batch_size=8, show_progress=False)
    with pytest.raises(CorpusError, match=r"different settings \(id_column\): not shards of one run"):
        merge_outputs([str(tmp_path / "noid")] + s[1:], str(tmp_path / "x.parquet"))
    with pytest.raises(CorpusError, match=r"missing rows: 8, 9, .* \(16 in all\) \(out of 32"):  # loose parts 0 and 3
        merge_outputs([os.path.join(str(tmp_path / "single"), f"part-0000{k}.parquet") for k in (0, 3)],
                      str(tmp_path / "x.parquet"))
    assert not os.path.exists(tmp_path / "x.parquet")


# ---- resume ----------------------------------------------------------------------

class Crash(BaseException):
    """Stands for a kill: nothing after it runs."""


def test_crash_at_every_rename_then_resume(clf, tmp_path, monkeypatch):
    """Stop the run at each atomic rename in turn (state file and part files alike), leaving
    the temporary file behind as a kill would; the rerun must give the uninterrupted output."""
    texts = corpus(14)
    src = write_input("parquet", tmp_path / "in.parquet", texts, list(range(14)))  # row groups of 4
    args = dict(text_column="body", batch_size=4, show_progress=False)
    predict_file(clf, src, str(tmp_path / "ref"), **args)
    reference = table_of(str(tmp_path / "ref"))
    real = atomic._replace
    calls = {"n": 0}

    def counting(a, b):
        calls["n"] += 1
        real(a, b)

    monkeypatch.setattr(atomic, "_replace", counting)
    predict_file(clf, src, str(tmp_path / "count"), **args)
    n_renames = calls["n"]
    assert n_renames == 1 + 2 * 4 + 1  # state at start, (part + state) per part, final state

    for k in range(1, n_renames + 1):
        out = str(tmp_path / f"out{k}")
        calls["n"] = 0

        def crashing(a, b):
            calls["n"] += 1
            if calls["n"] == k:
                shutil.copy(a, a + "-left-over")  # a kill would leave the temporary file
                raise Crash()
            real(a, b)

        monkeypatch.setattr(atomic, "_replace", crashing)
        with pytest.raises(Crash):
            predict_file(clf, src, out, **args)
        monkeypatch.setattr(atomic, "_replace", real)
        summary = predict_file(clf, src, out, **args)
        assert summary["complete"] and summary["rows_done"] == 14, k
        assert not [f for f in os.listdir(out) if f.startswith(".")], k
        result = table_of(out)
        assert result.equals(reference), k  # same chunks, same batches: identical, not just close
        assert merge_outputs([out], os.path.join(out + ".parquet"))["rows"] == 14

    # the rows per part may change between the killed run and the rerun
    calls["n"] = 0

    def crash_at_third_part(a, b):
        calls["n"] += 1
        if calls["n"] == 6:  # renames: state, part 0, state, part 1, state, part 2 <- here
            raise Crash()
        real(a, b)

    monkeypatch.setattr(atomic, "_replace", crash_at_third_part)
    with pytest.raises(Crash):
        predict_file(clf, src, str(tmp_path / "regrouped"), **dict(args, batch_size=3))
    monkeypatch.setattr(atomic, "_replace", real)
    summary = predict_file(clf, src, str(tmp_path / "regrouped"), **dict(args, batch_size=5))
    assert summary["resumed_at_row"] == 6 and summary["parts"] == 2 + 2
    assert_same_output(table_of(str(tmp_path / "regrouped")), reference)


def test_resume_refuses_other_settings(clf, tmp_path):
    src = mixed_jsonl(tmp_path / "in.jsonl", 12)
    out = str(tmp_path / "out")
    predict_file(clf, src, out, batch_size=5, show_progress=False)
    with pytest.raises(CorpusError, match="other settings.*shard: was None, now \\[0, 2\\]"):
        predict_file(clf, src, out, batch_size=5, shard=(0, 2), show_progress=False)
    # the same input staged elsewhere (new path, new modification time) is the same input
    (tmp_path / "staged").mkdir()
    staged = shutil.copy(src, tmp_path / "staged" / "in.jsonl")
    os.utime(staged, (1, 1))
    assert predict_file(clf, str(staged), out, batch_size=5, show_progress=False)["complete"]
    # a second writer on the same folder is refused while the first holds the lock
    import fcntl

    fd = os.open(os.path.join(out, "_lock"), os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(CorpusError, match="being written by another process"):
            predict_file(clf, src, out, batch_size=5, show_progress=False)
    finally:
        os.close(fd)
    with open(src, "a") as f:
        f.write(json.dumps({"text": "One more."}) + "\n")
    with pytest.raises(CorpusError, match="other settings \\(input:"):
        predict_file(clf, src, out, show_progress=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(CorpusError, match="not empty and has no _state.json"):
        predict_file(clf, src, str(tmp_path / "busy"), show_progress=False)
    with pytest.raises(CorpusError, match=r"shard 3/3: need 0 <= i < n"):
        predict_file(clf, src, str(tmp_path / "o2"), shard=(3, 3), show_progress=False)


KILL_SCRIPT = """
import sys, time
from stancelib import StanceClassifier
from stancelib.batch import predict_file

class Slow(StanceClassifier):  # slows the run down so that the kill lands mid-way
    def predict_proba(self, *args, **kwargs):
        time.sleep(0.02)
        return super().predict_proba(*args, **kwargs)

model, src, out, per_part = sys.argv[1:5]
predict_file(Slow.from_pretrained(model, device="cpu"), src, out, batch_size=int(per_part), show_progress=False)
"""


def test_sigkill_and_resume(clf, model_dir, tmp_path):
    """A real process killed with SIGKILL mid-way (no cleanup of any kind runs), then rerun to the end."""
    n, per_part = 2000, 40
    texts = corpus(n)
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": t} for t in texts])
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [sys.executable, str(script), model_dir, src, str(out), str(per_part)]

    def parts():
        return sorted(f for f in os.listdir(out) if f.startswith("part-")) if out.exists() else []

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 90
    while len(parts()) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    output = proc.communicate()[0].decode(errors="replace")
    assert proc.returncode == -signal.SIGKILL, output  # it was killed, it did not finish
    state = json.loads((out / "_state.json").read_text())
    parts_before = parts()
    assert not state["complete"] and 2 <= len(parts_before) < n // per_part

    # the rerun: here, in-process (a second interpreter start costs ~15 s on a busy machine),
    # with the same saved model loaded the same way
    summary = predict_file(StanceClassifier.from_pretrained(model_dir, device="cpu"), src, str(out),
                           batch_size=per_part, show_progress=False)
    assert summary["resumed_at_row"] == len(parts_before) * per_part and summary["rows_this_run"] < n
    assert json.loads((out / "_state.json").read_text())["complete"]
    assert len(parts()) == n // per_part and not [f for f in os.listdir(out) if f.startswith(".")]
    t = table_of(str(out))
    rows = t.column("row").to_pylist()
    assert len(rows) == n and sorted(set(rows)) == list(range(n))  # every row exactly once
    assert_matches_model(t, clf, texts)  # and each row holds its own text and prediction
    assert merge_outputs([str(out)], str(tmp_path / "m.parquet"))["rows"] == n


# ---- bad rows ----------------------------------------------------------------------

def test_bad_rows_become_error_rows(clf, tmp_path):
    lines = [json.dumps({"text": "The ministry said 40 people were hurt."}), json.dumps({"text": None}),
             json.dumps({"text": 42}), json.dumps({"text": ["a list"]}), "{broken json", json.dumps([1, 2]),
             json.dumps({"other": "no text field"}), json.dumps({"text": ""}), json.dumps({"text": "\ud800 lone surrogate"}),
             json.dumps({"text": "Critics say the plan is doomed to fail."})]
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(lines) + "\n\n")  # a trailing blank line is no record
    summary = predict_file(clf, str(src), str(tmp_path / "out"), batch_size=4, show_progress=False)
    assert summary["input_rows"] == 10 and summary["errors"] == 7
    t = table_of(str(tmp_path / "out")).to_pylist()
    errors = [r["error"] for r in t]
    assert errors[0] is None and errors[9] is None and errors[7] is None  # blank: no label, no error
    assert errors[1] == "text is missing (null)" and errors[2] == "text is int, not a string"
    assert errors[3] == "text is list, not a string" and errors[4].startswith("invalid JSON")
    assert errors[5] == "record is a JSON list, not an object" and errors[6] == "no 'text' field"
    assert errors[8] == "text is not valid UTF-8"
    for r in t:
        if r["row"] in (0, 9):
            assert r["label"] in LABELS and abs(sum(r[c] for c in PROB_COLUMNS) - 1) < 1e-5
        else:
            assert r["label"] is None and all(r[c] is None for c in PROB_COLUMNS)

    # CSV: a record with too many fields (an unquoted comma), an invalid byte, an empty field
    raw = b"text,id\nRain fell on Monday.,1\nCritics say, it failed.,2,x\nBad \xff byte.,3\n,4\n"
    (tmp_path / "bad.csv").write_bytes(raw)
    predict_file(clf, str(tmp_path / "bad.csv"), str(tmp_path / "out2"), id_column="id", show_progress=False)
    t = table_of(str(tmp_path / "out2")).to_pylist()
    assert [r["id"] for r in t] == ["1", None, "3", "4"]  # a misshapen record's id cannot be trusted
    assert t[0]["label"] in LABELS and t[3]["label"] is None and t[3]["error"] is None
    assert "has 4 fields, the header 2" in t[1]["error"] and t[2]["error"] == "text is not valid UTF-8"


def test_a_text_that_breaks_the_model_costs_only_its_row(clf, tmp_path, monkeypatch):
    real = StanceClassifier.predict_proba

    def fragile(self, texts, *args, **kwargs):
        if any("BOOM" in t for t in texts):
            raise RuntimeError("tokenizer exploded")
        return real(self, texts, *args, **kwargs)

    monkeypatch.setattr(StanceClassifier, "predict_proba", fragile)
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": t} for t in ["Rain fell.", "BOOM", "Critics say so."]])
    predict_file(clf, src, str(tmp_path / "out"), show_progress=False)
    t = table_of(str(tmp_path / "out")).to_pylist()
    assert [r["label"] is None for r in t] == [False, True, False]
    assert t[1]["error"] == "prediction failed: RuntimeError: tokenizer exploded"


# ---- documents ---------------------------------------------------------------------

def test_documents_mode_matches_analyze(tokenizer, tmp_path):
    import torch

    from stancelib.network import DocumentModel
    from stancelib.sentences import split_sentences

    # a document model with a (random) span head, so that source and cue columns get filled
    model = DocumentModel(make_tiny_model(tokenizer, seed=5), with_spans=True)
    with_spans = StanceClassifier(model, tokenizer, max_length=64, window_tokens=128)
    assert with_spans.has_spans
    docs = ["Headline here\n\nMr. Lee spoke at 9 a.m. on Monday. Critics say it failed.",
            "", "The ministry said 40 people were hurt. \"We will rebuild,\" Mayor Ana Ortiz told reporters.",
            None, "One sentence only"] + [" ".join(SENTENCES[k : k + 4]) for k in range(0, 24, 4)]
    # an untouched random head labels every sentence alike: rescale it and centre it on these
    # sentences as their windows read them (the mean log-probability is the mean logit up to a
    # constant), so that all three labels occur with clear margins
    sentences = [[d[a:b] for a, b in split_sentences(d)] for d in docs if d]
    mean_log = np.nanmean(np.log(np.concatenate(with_spans.predict_proba_documents(sentences, calibrated=False))), 0)
    with torch.no_grad():
        head = model.encoder.classifier
        head.bias.copy_(-1000 * (torch.from_numpy(mean_log).to(head.bias) - head.bias))
        head.weight.mul_(1000)
    src = write_jsonl(tmp_path / "docs.jsonl", [{"text": d, "id": k} for k, d in enumerate(docs)])
    predict_file(with_spans, src, str(tmp_path / "all"), id_column="id", mode="documents", batch_size=3,
                 show_progress=False)
    t = table_of(str(tmp_path / "all"))
    assert t.schema.names == ["row", "id", "sentence", "start", "end", "text", "label", *PROB_COLUMNS,
                              "source", "cue", "error"]
    rows = t.to_pylist()
    assert sorted({r["row"] for r in rows}) == list(range(len(docs)))
    n_spans = 0
    for k, doc in enumerate(docs):
        mine = [r for r in rows if r["row"] == k]
        assert all(r["id"] == str(k) for r in mine)
        if doc is None:
            assert len(mine) == 1 and mine[0]["error"] == "text is missing (null)" and mine[0]["sentence"] is None
            continue
        if not doc.strip():
            assert len(mine) == 1 and mine[0]["sentence"] is None and mine[0]["label"] is None and mine[0]["error"] is None
            continue
        analysis = with_spans.analyze(doc)
        assert [(r["sentence"], r["start"], r["end"], r["text"], r["source"], r["cue"]) for r in mine] == \
            [(j, s.start, s.end, s.text, s.source, s.cue) for j, s in enumerate(analysis.sentences)]
        n_spans += sum(r["source"] is not None or r["cue"] is not None for r in mine)
        for r in mine:
            if r["source"]:
                assert doc[r["source"]["start"]:r["source"]["end"]] == r["source"]["text"]
        expected = np.array([[s.probabilities[name] for name in LABELS] for s in analysis.sentences])
        got = np.array([[r[c] for c in PROB_COLUMNS] for r in mine])
        np.testing.assert_allclose(got, expected, atol=1.5e-4)  # analyze rounds to 4 decimals
        assert_labels([r["label"] for r in mine], got, expected)
    assert n_spans > 0 and {r["label"] for r in rows} >= set(LABELS)
    # two shards merged give the same sentence rows
    for i in range(2):
        predict_file(with_spans, src, str(tmp_path / f"s{i}"), id_column="id", mode="documents", shard=(i, 2),
                     batch_size=3, show_progress=False)
    merge_outputs([str(tmp_path / "s0"), str(tmp_path / "s1")], str(tmp_path / "m.parquet"))
    merged = table_of(str(tmp_path / "m.parquet"))
    assert_same_output(merged, t)
    assert merged.column("source").to_pylist() == t.column("source").to_pylist()


# ---- datasets ----------------------------------------------------------------------

def test_predict_dataset(clf):
    import datasets

    texts = corpus(30) + ["", None]
    ds = datasets.Dataset.from_dict({"text": texts, "gold": ["x"] * 32})
    out = predict_dataset(clf, ds, batch_size=64)
    assert out.column_names == ["text", "gold", "label", *PROB_COLUMNS]
    assert out["label"][:30] == clf.predict(texts[:30])  # the same batch as clf.predict: identical
    assert out["label"][30:] == [None, None] and out[31]["p_neutral_report"] is None
    np.testing.assert_allclose(np.array([out[c][:30] for c in PROB_COLUMNS]).T, clf.predict_proba(texts[:30]), atol=1e-6)
    small = predict_dataset(clf, ds, batch_size=4)  # other batches: equal up to float noise
    np.testing.assert_allclose(np.array([small[c][:30] for c in PROB_COLUMNS]).T, clf.predict_proba(texts[:30]), atol=1e-5)
    # it composes with datasets' own sharding and with lazy (streaming) datasets
    shard = predict_dataset(clf, ds.shard(num_shards=3, index=1), batch_size=64)
    assert shard["text"] == ds.shard(num_shards=3, index=1)["text"] and len(shard) == 11
    lazy = predict_dataset(clf, ds.to_iterable_dataset(), batch_size=8)
    got = list(lazy)
    assert [r["text"] for r in got] == texts and [r["label"] for r in got][:30] == out["label"][:30]
    both = predict_dataset(clf, datasets.DatasetDict(train=ds, dev=ds.select(range(3))))
    assert both["dev"]["label"] == out["label"][:3]
    with pytest.raises(CorpusError, match="already has column\\(s\\) label"):
        predict_dataset(clf, ds.rename_column("gold", "label"))
    assert predict_dataset(clf, ds.rename_column("gold", "label"), label_column="predicted")["predicted"][:3] == out["label"][:3]


def test_predict_columns_per_partition(clf):
    """What the Spark/Ray examples in docs/scaling.md run on each partition (here on pandas
    frames, without Spark): rows stay aligned, missing values give errors, not exceptions."""
    import pandas as pd

    texts = corpus(10)
    frame = pd.DataFrame({"text": texts[:4] + [None, float("nan"), "", 7] + texts[4:6]})
    parts = [frame.iloc[:5], frame.iloc[5:]]  # two "partitions"
    out = pd.concat([p.reset_index(drop=True).join(pd.DataFrame(predict_columns(clf, p["text"]))) for p in parts])
    assert list(out.columns) == ["text", "label", *PROB_COLUMNS, "error"] and len(out) == 10
    good = [0, 1, 2, 3, 8, 9]
    expected = clf.predict_proba(texts[:6])
    np.testing.assert_allclose(out.iloc[good][list(PROB_COLUMNS)].to_numpy(dtype=float), expected, atol=1e-5)
    assert_labels(list(out.iloc[good]["label"]), out.iloc[good][list(PROB_COLUMNS)].to_numpy(dtype=float), expected)
    assert [None if pd.isna(e) else e for e in out["error"].iloc[4:8]] == [
        "text is missing (null)", "text is missing (null)", None, "text is int, not a string"]
    assert out["label"].iloc[4:8].isna().all()


# ---- command-line pieces -------------------------------------------------------------

def test_cli_pieces(clf, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="stancelib")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict")
    p.add_argument("--model")
    p.add_argument("sentences", nargs="*")
    p.add_argument("--file")
    p.add_argument("--json", action="store_true")
    add_corpus_arguments(p)
    register_cli(sub)
    src = mixed_jsonl(tmp_path / "in.jsonl", 9)
    for i in range(2):
        ns = parser.parse_args(["predict", "--model", "m", "--input", src, "--output", str(tmp_path / f"o{i}"),
                                "--shard", f"{i}/2", "--id-column", "id", "--rows-per-part", "3"])
        assert run_corpus_predict(clf, ns) == 0
    assert "input rows -> " in capsys.readouterr().out
    ns = parser.parse_args(["merge", str(tmp_path / "o0"), str(tmp_path / "o1"), "--output", str(tmp_path / "m.parquet")])
    assert ns.func(ns) == 0
    assert "input rows 0-8 each present once" in capsys.readouterr().out
    assert table_of(str(tmp_path / "m.parquet")).column("id").to_pylist() == [f"d{k}" for k in range(9)]
    ns = parser.parse_args(["predict", "--model", "m", "--input", src])
    assert run_corpus_predict(clf, ns) == 2 and "--input needs --output" in capsys.readouterr().err
    for bad in ("2/2", "a/b", "1"):
        with pytest.raises(SystemExit):
            parser.parse_args(["predict", "--input", src, "--shard", bad])


# ---- sentence rows regrouped by document (--group-by-doc) ---------------------------------

class NeighbourStub:
    """A 'model' whose probabilities for a sentence depend on the sentence before and after it
    in its document, so that a row read without its true neighbours gets other numbers."""

    labels = tuple(reversed(LABELS))  # not LABELS order: the output must reorder the columns

    def __init__(self):
        self.calls = []

    @staticmethod
    def proba(prev, text, nxt):
        h = np.array([hash((prev, text, nxt, k)) % 997 + 1 for k in range(3)], dtype=np.float32)
        return h / h.sum()

    def predict_proba_documents(self, documents):
        self.calls.append([list(d) for d in documents])
        return [np.array([self.proba(d[k - 1] if k else None, s, d[k + 1] if k + 1 < len(d) else None)
                          for k, s in enumerate(d)]).reshape(len(d), 3) for d in documents]


def grouped_rows():
    """Three documents given out of order and interleaved, rows without a doc, a blank, bad rows."""
    rows = [
        {"id": "a2", "doc": "A", "i": 2, "text": "A third."},
        {"id": "b0", "doc": "B", "i": 0, "text": "B first."},
        {"id": "a0", "doc": "A", "i": 0, "text": "A first."},
        {"id": "x", "text": "No doc at all."},
        {"id": "b1", "doc": "B", "i": 1, "text": "   "},  # blank: no label, and no neighbour either
        {"id": "a1", "doc": "A", "i": 1, "text": "A second."},
        {"id": "b2", "doc": "B", "i": 2, "text": "B third."},
        {"id": "bad", "doc": "B", "i": 3, "text": 17},
        {"id": "c0", "doc": 7, "i": "zero", "text": "C with a bad index."},
        {"id": "y", "doc": None, "i": 0, "text": "A doc of null."},
    ]
    # doc -> texts in reading order (what the stub must have been given)
    docs = {"A": ["A first.", "A second.", "A third."], "B": ["B first.", "B third."]}
    return rows, docs


def expected_grouped(rows, docs):
    out = {}
    for d, texts in docs.items():
        for k, t in enumerate(texts):
            out[t] = NeighbourStub.proba(texts[k - 1] if k else None, t, texts[k + 1] if k + 1 < len(texts) else None)
    for t in ("No doc at all.", "A doc of null."):
        out[t] = NeighbourStub.proba(None, t, None)
    return {t: p[::-1] for t, p in out.items()}  # the stub's columns are LABELS reversed


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_group_by_doc_reads_each_row_with_its_documents_neighbours(fmt, tmp_path):
    rows, docs = grouped_rows()
    if fmt == "jsonl":
        src = write_jsonl(tmp_path / "in.jsonl", rows)
    else:  # a typed table: doc and i as strings (a Parquet column holds one type), no bad text
        rows = [dict(r, doc=None if r.get("doc") is None else str(r["doc"]),
                     i=None if r.get("i") is None else str(r["i"]), text=str(r["text"])) for r in rows]
        src = str(tmp_path / "in.parquet")
        pq.write_table(pa.Table.from_pylist(rows), src)
        docs["B"].append("17")
    stub = NeighbourStub()
    summary = predict_file(stub, src, str(tmp_path / "out"), id_column="id", group_by_doc=True, batch_size=3,
                           show_progress=False)
    assert summary["rows_done"] == len(rows)
    t = table_of(str(tmp_path / "out"))
    assert t.schema.names == ["row", "id", "text", "label", *PROB_COLUMNS, "error"]  # sentence mode's schema
    got = t.to_pylist()
    assert [r["row"] for r in got] == list(range(len(rows))) and [r["id"] for r in got] == [r["id"] for r in rows]
    expected = expected_grouped(rows, docs)
    for r in got:
        if r["id"] == "b1":
            assert r["label"] is None and r["error"] is None and r["p_neutral_report"] is None
        elif r["id"] == "bad" and fmt == "jsonl":
            assert r["label"] is None and r["error"] == "text is int, not a string"
        elif r["id"] == "c0":
            assert r["label"] is None and "i is 'zero', not a sentence index" in r["error"]
        else:
            p = np.array([r[c] for c in PROB_COLUMNS])
            np.testing.assert_allclose(p, expected[r["text"]], rtol=1e-6, err_msg=r["id"])
            assert r["label"] == LABELS[int(p.argmax())] and r["error"] is None
    # a document reaching over several parts (A: rows 0, 2, 5) was labelled once, not once per part
    assert sum(d == docs["A"] for call in stub.calls for d in call) == 1


def test_group_by_doc_with_the_model_and_its_refusals(clf, tmp_path):
    """With a real classifier: each row gets what predict_proba_documents gives its document;
    a resumed run equals an uninterrupted one; --documents, --shard and a missing column are refused."""
    rows = [{"id": str(k), "doc": f"d{k % 7}", "i": k // 7, "text": s} for k, s in enumerate(corpus(60))]
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    predict_file(clf, src, str(tmp_path / "out"), id_column="id", group_by_doc=True, batch_size=16,
                 show_progress=False)
    t = table_of(str(tmp_path / "out"))
    docs = [[r["text"] for r in rows if r["doc"] == f"d{d}"] for d in range(7)]
    expected = {text: p for doc, probs in zip(docs, clf.predict_proba_documents(docs))
                for text, p in zip(doc, np.asarray(probs)[:, [clf.labels.index(n) for n in LABELS]])}
    np.testing.assert_allclose(probs_of(t), np.array([expected[r["text"]] for r in rows]), atol=1e-5)
    assert t.column("text").to_pylist() == [r["text"] for r in rows]
    # killed after two parts (simulated: parts 2.. removed, state rolled back by a rerun) -> same output
    part_files = sorted(f for f in os.listdir(tmp_path / "out") if f.startswith("part-"))
    shutil.copytree(tmp_path / "out", tmp_path / "again")
    for f in part_files[2:]:
        os.remove(tmp_path / "again" / f)
    state = json.loads((tmp_path / "again" / "_state.json").read_text())
    state.update(complete=False)
    (tmp_path / "again" / "_state.json").write_text(json.dumps(state))
    summary = predict_file(clf, src, str(tmp_path / "again"), id_column="id", group_by_doc=True, batch_size=16,
                           show_progress=False)
    assert summary["resumed_at_row"] == 32
    assert_same_output(table_of(str(tmp_path / "again")), t)
    with pytest.raises(CorpusError, match="already a whole article"):
        predict_file(clf, src, str(tmp_path / "x1"), group_by_doc=True, mode="documents", show_progress=False)
    with pytest.raises(CorpusError, match="split over shards"):
        predict_file(clf, src, str(tmp_path / "x2"), group_by_doc=True, shard=(0, 2), show_progress=False)
    pq.write_table(pa.table({"text": ["a", "b"]}), str(tmp_path / "nodoc.parquet"))
    with pytest.raises(CorpusError, match="no column 'doc' to group"):
        predict_file(clf, str(tmp_path / "nodoc.parquet"), str(tmp_path / "x3"), group_by_doc=True,
                     show_progress=False)
