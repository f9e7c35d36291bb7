"""Corpus prediction on Ray Data (stancelib.batch.predict_ray, predict --engine ray), on a local
Ray started here (2 CPUs, no dashboard) and shut down after the module.

Every check compares with the single-process ``predict_file`` on the same input: a corpus of over
10,000 sentence rows (the bundled splits, repeated, with bad rows mixed in), its rows regrouped by
document, whole articles, a Ray Dataset, and a run during which an actor process is killed.
"""

import argparse
import json
import os
import signal
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'stancelib[ray]'")

from stancelib import LABELS, StanceClassifier  # noqa: E402
from stancelib.batch import (PROB_COLUMNS, CorpusError, add_corpus_arguments, merge_outputs, predict_file,  # noqa: E402
                             run_corpus_predict)
from stancelib.batch.ray import predict_ray  # noqa: E402
from tests.conftest import make_varied_model, write_jsonl  # noqa: E402
from tests.test_batch import SENTENCES, assert_same_output, probs_of, table_of  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "data", "corpus")
MIN_ROWS = 10_000


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=256 * 1024**2, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model_dir(tokenizer, tmp_path_factory):
    """A tiny model in which all three labels occur with clear margins."""
    model = make_varied_model(tokenizer, SENTENCES)
    path = str(tmp_path_factory.mktemp("ray-model") / "model")
    StanceClassifier(model, tokenizer, max_length=64, metadata={"run_name": "ray-test"}).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def clf(model_dir):
    return StanceClassifier.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    """The bundled train/dev/test sentence rows, repeated to over 10,000 (each copy its own
    documents), with bad rows: a number for a text, a blank, a line that is not JSON."""
    base = []
    for split in ("train", "dev", "test"):
        with open(os.path.join(CORPUS, f"{split}.jsonl"), encoding="utf-8") as f:
            base += [json.loads(line) for line in f if line.strip()]
    rows, copy = [], 0
    while len(rows) < MIN_ROWS:
        rows += [{"id": f"{r['doc']}#{copy}:{r['i']}", "doc": f"{r['doc']}#{copy}", "i": r["i"], "text": r["text"]}
                 for r in base]
        copy += 1
    rows[7]["text"] = 42
    rows[8]["text"] = "  "
    path = write_jsonl(tmp_path_factory.mktemp("ray-corpus") / "corpus.jsonl", rows)
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"id": "broken", "text": \n')
    return path


@pytest.fixture(scope="module")
def single_process(clf, corpus_file, tmp_path_factory):
    """predict --input of the corpus in this process: the reference output."""
    out = str(tmp_path_factory.mktemp("single") / "out")
    predict_file(clf, corpus_file, out, id_column="id", show_progress=False)
    return table_of(out)


def test_sentences_equal_single_process_row_for_row(local_ray, model_dir, corpus_file, single_process, tmp_path):
    summary = predict_ray(corpus_file, model_dir, str(tmp_path / "ray"), id_column="id", actors=2,
                          batch_size=256, show_progress=False)
    assert summary["input_rows"] == single_process.num_rows > MIN_ROWS
    got = table_of(str(tmp_path / "ray"))
    assert got.schema == single_process.schema  # the schema of predict --input, id type included
    assert_same_output(got, single_process)
    assert set(got.column("label").to_pylist()) >= {"neutral_report", "attributed_statement", "unattributed_claim"}
    # bad rows are reported with file and row, and cost only their row
    assert summary["errors"] == 2
    assert summary["error_rows"] == [f"{corpus_file}: row 7: text is int, not a string",
                                     f"{corpus_file}: row {summary['input_rows'] - 1}: "
                                     + single_process.column("error").to_pylist()[-1]]  # the line that is not JSON
    # the folder is one that merge accepts: it checks every row once and sorts
    merged = merge_outputs([str(tmp_path / "ray")], str(tmp_path / "m.parquet"))
    assert merged["input_rows"] == summary["input_rows"] and merged["completeness_checked"]
    assert_same_output(table_of(str(tmp_path / "m.parquet")), single_process)
    with pytest.raises(CorpusError, match="not empty"):
        predict_ray(corpus_file, model_dir, str(tmp_path / "ray"), show_progress=False)


def _actor_pids():
    """Processes of this module's Ray whose title names our model actor (busy ones first)."""
    import psutil

    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        title = " ".join(p.info["cmdline"] or [])
        if "MapBatches(_Labeler)" in title:
            found.append((".submit" not in title, p.info["pid"]))
    return [pid for _, pid in sorted(found)]


def test_actor_killed_mid_run_every_row_exactly_once(local_ray, model_dir, corpus_file, single_process, tmp_path):
    out = tmp_path / "killed"
    result = {}

    def run():
        try:
            result["summary"] = predict_ray(corpus_file, model_dir, str(out), id_column="id", actors=2,
                                            batch_size=128, show_progress=False)
        except BaseException as e:  # noqa: BLE001 - re-raised below, in the test's thread
            result["error"] = e

    worker = threading.Thread(target=run)
    worker.start()
    # wait until parts are coming in (the actors are up and labelling), then kill a busy one
    deadline = time.time() + 600  # a loaded machine may take minutes to start the actors
    while time.time() < deadline and worker.is_alive() and not any(out.glob("part-*.parquet")):
        time.sleep(0.05)
    pids = _actor_pids()
    parts_at_kill = len(list(out.glob("part-*.parquet")))
    assert pids and worker.is_alive(), "the run ended before an actor could be killed"
    os.kill(pids[0], signal.SIGKILL)
    worker.join(timeout=900)
    assert not worker.is_alive()
    if "error" in result:
        raise result["error"]
    summary = result["summary"]
    n_parts = summary["parts"]
    assert 0 < parts_at_kill < n_parts, (parts_at_kill, n_parts)  # killed mid-run
    got = table_of(str(out))
    rows = got.column("row").to_numpy()
    assert len(rows) == len(np.unique(rows)) == single_process.num_rows  # no duplicates, no gaps
    assert_same_output(got, single_process)
    import psutil

    assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == psutil.STATUS_ZOMBIE


def test_group_by_doc_equals_single_process(local_ray, clf, model_dir, corpus_file, tmp_path, capsys):
    """Sentence rows regrouped by doc/i (3,000 rows, whole documents, kept short for time), the
    documents shuffled across the file: each row gets its document's neighbours on Ray too."""
    with open(corpus_file, encoding="utf-8") as f:
        lines = f.readlines()[:3000]
    src = str(tmp_path / "shuffled.jsonl")
    with open(src, "w", encoding="utf-8") as f:
        f.writelines(lines[1::2] + lines[::2])  # a document's rows now lie far apart
    predict_file(clf, src, str(tmp_path / "one"), id_column="id", group_by_doc=True, show_progress=False)
    # through the command line: predict --input ... --group-by-doc --engine ray
    parser = argparse.ArgumentParser(prog="stancelib")
    parser.add_argument("--model")
    add_corpus_arguments(parser)
    ns = parser.parse_args(["--model", model_dir, "--input", src, "--output", str(tmp_path / "ray"), "--id-column",
                            "id", "--group-by-doc", "--engine", "ray", "--actors", "2", "--batch-size", "256"])
    ns.sentences, ns.file, ns.json = [], None, False
    assert run_corpus_predict(None, ns) == 0
    assert "on 2 Ray actors" in capsys.readouterr().out
    one = table_of(str(tmp_path / "one"))
    assert_same_output(table_of(str(tmp_path / "ray")), one)
    # the check has teeth: read alone, the sentences get other probabilities than with neighbours
    texts = [t for t in one.column("text").to_pylist() if t and t.strip()]
    alone = clf.predict_proba(texts)
    with_neighbours = probs_of(one.filter(pa.array([bool(t and t.strip()) for t in one.column("text").to_pylist()])))
    assert np.abs(alone[:, [clf.labels.index(n) for n in LABELS]] - with_neighbours).max() > 1e-3


def test_documents_and_a_ray_dataset(local_ray, clf, model_dir, tmp_path):
    """Whole articles (--documents) from a Ray Dataset: the rows of predict_file on the same table."""
    names = sorted(os.listdir(os.path.join(CORPUS, "articles")))[:24]
    texts = []
    for name in names:
        with open(os.path.join(CORPUS, "articles", name), encoding="utf-8") as f:
            texts.append(f.read())
    table = pa.table({"doc_id": names, "body": texts[:-1] + [""]})  # a blank article keeps its row
    pq.write_table(table, str(tmp_path / "articles.parquet"), row_group_size=7)
    predict_file(clf, str(tmp_path / "articles.parquet"), str(tmp_path / "one"), text_column="body",
                 id_column="doc_id", mode="documents", show_progress=False)
    ds = ray.data.from_arrow(table).repartition(5)
    summary = predict_ray(ds, model_dir, str(tmp_path / "ray"), text_column="body", id_column="doc_id",
                          mode="documents", actors=2, batch_size=4, show_progress=False)
    got, want = table_of(str(tmp_path / "ray")).sort_by([("row", "ascending"), ("sentence", "ascending")]), \
        table_of(str(tmp_path / "one")).sort_by([("row", "ascending"), ("sentence", "ascending")])
    assert summary["input_rows"] == len(names) and got.num_rows == want.num_rows > 10 * len(names)
    assert got.schema == want.schema
    for name in got.schema.names:
        if name not in PROB_COLUMNS and name != "label":
            assert got.column(name).to_pylist() == want.column(name).to_pylist(), name
    # analyze rounds probabilities to 4 decimals, so a label is only sure where the top two differ more
    pg, pw = np.nan_to_num(probs_of(got)), np.nan_to_num(probs_of(want))
    np.testing.assert_allclose(pg, pw, atol=1.5e-4)
    top2 = np.sort(pw, axis=1)[:, -2:]
    sure = top2[:, 1] - top2[:, 0] > 3e-4
    labels_got, labels_want = got.column("label").to_pylist(), want.column("label").to_pylist()
    assert [x for x, ok in zip(labels_got, sure) if ok] == [x for x, ok in zip(labels_want, sure) if ok]
    assert sure.mean() > 0.9
