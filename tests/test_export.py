"""ONNX export (``stancelib.export``) and the ONNX backend (``stancelib.onnx_backend``), on a tiny random BERT."""

import argparse
import json
import os
import shutil

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from stancelib import LABELS, ModelLoadError, StanceClassifier  # noqa: E402
from stancelib.export import default_out_dir, export_onnx, register_cli  # noqa: E402
from stancelib.onnx_backend import OnnxRunner  # noqa: E402
from tests.conftest import TINY, make_tiny_model  # noqa: E402

# ~30 sentences: one word to past max_length (64 tokens), punctuation, digits, non-ASCII, a blank.
SENTENCES = [s for texts in TINY.values() for s in texts] + [
    "Yes.",
    "",
    "   ",
    "Über 200 Menschen — laut Polizei — demonstrierten am Montag in Zürich.",
    "The report, published on Monday by the state audit office after a two-year inquiry into procurement at "
    "seven ministries, found that contracts worth 1.2 billion euros had been awarded without tender, that "
    "invoices were routinely paid twice and that nobody had been held responsible, the auditors said.",
    "“We will not back down,” she said.",
    "GDP grew 0.3% q/q (1.2% y/y) in Q3, per ONS data.",
]


@pytest.fixture(scope="module")
def model_dir(tokenizer, tmp_path_factory):
    """A tiny random model with a sharpened head, so probabilities are far from uniform."""
    import torch

    model = make_tiny_model(tokenizer, seed=1).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(300)
    path = str(tmp_path_factory.mktemp("export") / "model")
    StanceClassifier(model, tokenizer, max_length=64, metadata={"run_name": "tiny"}).save_pretrained(path, model_card="# tiny\n")
    return path


@pytest.fixture(scope="module")
def onnx_dir(model_dir):
    return export_onnx(model_dir, default_out_dir(model_dir))


@pytest.fixture(scope="module")
def int8_dir(model_dir):
    return export_onnx(model_dir, default_out_dir(model_dir, "int8"), quantize="int8")


def test_fp32_export_picks_onnx_backend_and_matches_pytorch(model_dir, onnx_dir):
    assert onnx_dir == model_dir + "-onnx"
    files = set(os.listdir(onnx_dir))
    assert {"model.onnx", "config.json", "tokenizer.json", "stancelib.json"} <= files
    assert "model.safetensors" not in files and not any(f.endswith((".bin", ".pt", ".data")) for f in files)

    ref = StanceClassifier.from_pretrained(model_dir, device="cpu")
    clf = StanceClassifier.from_pretrained(onnx_dir)
    assert clf.model is None and isinstance(clf.runner, OnnxRunner)
    assert clf.labels == ref.labels == LABELS and clf.max_length == ref.max_length == 64

    expected = ref.predict_proba(SENTENCES)
    assert np.isnan(expected[SENTENCES.index("")]).all() and np.nanmax(expected) > 0.9  # not all near-uniform
    for batch_size in (1, 7, 64):
        clf.batch_size = batch_size
        got = clf.predict_proba(SENTENCES)
        assert got.shape == expected.shape and got.dtype == np.float32
        assert np.array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_allclose(got, expected, atol=1e-4, equal_nan=True)
    assert clf.predict(SENTENCES) == ref.predict(SENTENCES)
    one = clf.predict_proba(SENTENCES[0])
    assert one.shape == (3,)
    np.testing.assert_allclose(one, expected[0], atol=1e-4)
    assert clf.predict("   ") is None
    analysis = clf.analyze("The council met on Tuesday. Critics say the plan is doomed to fail.")
    assert [s.label for s in analysis.sentences] == ref.predict([s.text for s in analysis.sentences])


def test_int8_export_loads_and_returns_valid_probabilities(model_dir, onnx_dir, int8_dir):
    assert int8_dir == model_dir + "-onnx-int8"
    clf = StanceClassifier.from_pretrained(int8_dir)
    assert isinstance(clf.runner, OnnxRunner) and clf.labels == LABELS
    probs = clf.predict_proba(SENTENCES)
    live = [k for k, s in enumerate(SENTENCES) if s.strip()]
    blank = [k for k, s in enumerate(SENTENCES) if not s.strip()]
    assert probs.shape == (len(SENTENCES), 3) and np.isnan(probs[blank]).all()
    assert np.isfinite(probs[live]).all() and (probs[live] >= 0).all() and (probs[live] <= 1).all()
    np.testing.assert_allclose(probs[live].sum(axis=1), 1, atol=1e-5)
    assert all(label in LABELS for label in clf.predict([SENTENCES[k] for k in live]))
    assert os.path.getsize(os.path.join(int8_dir, "model.onnx")) < os.path.getsize(os.path.join(onnx_dir, "model.onnx"))


def test_metadata_labels_and_config_are_preserved(model_dir, onnx_dir, int8_dir):
    source_config = json.load(open(os.path.join(model_dir, "config.json")))
    source_meta = json.load(open(os.path.join(model_dir, "stancelib.json")))
    for out, quantize in ((onnx_dir, None), (int8_dir, "int8")):
        config = json.load(open(os.path.join(out, "config.json")))
        assert config["id2label"] == source_config["id2label"] and config["label2id"] == source_config["label2id"]
        meta = json.load(open(os.path.join(out, "stancelib.json")))
        assert {k: v for k, v in meta.items() if k not in ("onnx", "run_name")} == {
            k: v for k, v in source_meta.items() if k != "run_name"}
        assert meta["run_name"] == "tiny-onnx" + ("-int8" if quantize else "")
        assert meta["onnx"]["quantize"] == quantize and meta["onnx"]["opset"] == 17
        assert meta["onnx"]["source_model"] == os.path.abspath(model_dir)


def test_label_order_of_the_source_model_is_kept(tokenizer, tmp_path):
    model = make_tiny_model(tokenizer, seed=2).eval()
    order = (LABELS[2], LABELS[0], LABELS[1])
    model.config.id2label = dict(enumerate(order))
    model.config.label2id = {name: i for i, name in enumerate(order)}
    src = str(tmp_path / "m")
    StanceClassifier(model, tokenizer, max_length=32).save_pretrained(src)
    clf = StanceClassifier.from_pretrained(export_onnx(src, str(tmp_path / "m-onnx")))
    ref = StanceClassifier.from_pretrained(src, device="cpu")
    assert clf.labels == ref.labels == order
    np.testing.assert_allclose(clf.predict_proba(SENTENCES[:5]), ref.predict_proba(SENTENCES[:5]), atol=1e-4)


def test_missing_model_onnx_is_a_model_load_error(onnx_dir, tmp_path):
    broken = str(tmp_path / "broken")
    shutil.copytree(onnx_dir, broken)
    os.remove(os.path.join(broken, "model.onnx"))
    with pytest.raises(ModelLoadError, match="model.safetensors"):
        StanceClassifier.from_pretrained(broken)
    with pytest.raises(ModelLoadError, match="model.onnx"):
        StanceClassifier.from_pretrained(broken, backend="onnx")
    with open(os.path.join(broken, "model.onnx"), "wb") as f:
        f.write(b"not an onnx graph")
    with pytest.raises(ModelLoadError, match="could not load"):
        StanceClassifier.from_pretrained(broken)


def test_export_needs_safetensors_and_a_separate_folder(model_dir, onnx_dir, tmp_path):
    with pytest.raises(ModelLoadError, match="model.safetensors"):
        export_onnx(onnx_dir, str(tmp_path / "again"))
    with pytest.raises(ValueError, match="differ"):
        export_onnx(model_dir, model_dir)
    with pytest.raises(ValueError, match="quantize"):
        export_onnx(model_dir, str(tmp_path / "x"), quantize="int4")
    assert not os.path.exists(tmp_path / "again") and not os.path.exists(tmp_path / "x")


def test_failed_export_leaves_no_folder_and_keeps_the_old_one(model_dir, tmp_path, monkeypatch):
    from stancelib import export

    def boom(src, dst):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(export, "_quantize_int8", boom)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="interrupted"):
        export_onnx(model_dir, str(out), quantize="int8")
    assert os.listdir(tmp_path) == []
    out.mkdir()
    (out / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError, match="interrupted"):
        export_onnx(model_dir, str(out), quantize="int8")
    assert os.listdir(tmp_path) == ["out"] and os.listdir(out) == ["keep.txt"]


def test_pipeline_does_not_load_the_onnx_folder(onnx_dir):
    """Documented: the exported folder is for StanceClassifier; transformers.pipeline needs the PyTorch folder."""
    from transformers import pipeline

    with pytest.raises((OSError, ValueError)):
        pipeline("text-classification", model=onnx_dir)


def test_runner_feeds_only_declared_inputs_as_int64(onnx_dir, tokenizer):
    runner = OnnxRunner(os.path.join(onnx_dir, "model.onnx"), intra_op_num_threads=1)
    assert set(runner.input_names) == {"input_ids", "attention_mask", "token_type_ids"}
    enc = dict(tokenizer(SENTENCES[:4], padding=True, return_tensors="np"))
    logits, tags = runner(enc)
    width = enc["input_ids"].shape[1]
    assert logits.shape == (4, width, 3) and tags.shape == (4, width, 5) and logits.dtype == np.float32
    narrow = {k: v.astype(np.int32) for k, v in enc.items()}
    narrow["special_tokens_mask"] = np.zeros_like(enc["input_ids"])  # not a graph input: ignored
    np.testing.assert_allclose(runner(narrow)[0], logits, atol=1e-6)
    no_segments = {k: v for k, v in enc.items() if k != "token_type_ids"}  # a single segment is all zeros
    np.testing.assert_allclose(runner(no_segments)[0], logits, atol=1e-6)
    with pytest.raises(KeyError, match="attention_mask"):
        runner({"input_ids": enc["input_ids"]})


def test_cli_export_subcommand(model_dir, tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="stancelib")
    register_cli(parser.add_subparsers(dest="command", required=True))
    out = str(tmp_path / "cli-int8")
    ns = parser.parse_args(["export", "--model", model_dir, "--format", "onnx", "--quantize", "int8", "--out", out])
    assert ns.func(ns) == 0
    printed = capsys.readouterr().out
    assert os.path.join(out, "model.onnx") in printed and ("MB" in printed or "KB" in printed)
    assert StanceClassifier.from_pretrained(out).predict("Rain fell.") in LABELS
    ns = parser.parse_args(["export", "--model", model_dir])
    assert ns.out is None and ns.quantize is None and ns.format == "onnx"
    with pytest.raises(SystemExit):
        parser.parse_args(["export", "--model", model_dir, "--format", "tflite"])


def test_both_heads_are_exported_and_agree_on_multi_sentence_windows(tokenizer, tmp_path):
    from stancelib.network import DocumentModel

    clf = StanceClassifier(DocumentModel(make_tiny_model(tokenizer, seed=3), with_spans=True), tokenizer,
                           max_length=32, window_tokens=96)
    src = str(tmp_path / "with-spans")
    clf.save_pretrained(src)
    exported = StanceClassifier.from_pretrained(export_onnx(src, str(tmp_path / "with-spans-onnx")))
    assert isinstance(exported.runner, OnnxRunner) and exported.has_spans
    assert sorted(os.listdir(tmp_path / "with-spans-onnx")) == sorted(
        n for n in os.listdir(src) if n not in ("model.safetensors", "span_head.safetensors")) + ["model.onnx"] \
        or "model.onnx" in os.listdir(tmp_path / "with-spans-onnx")
    docs = [SENTENCES[:6], SENTENCES[6:9], SENTENCES[:1]]
    for a, b in zip(clf.predict_proba_documents(docs), exported.predict_proba_documents(docs)):
        np.testing.assert_allclose(a, b, atol=1e-4)
    text = " ".join(SENTENCES[:6])
    torch_spans = [(s.source, s.cue) for s in clf.analyze(text).sentences]
    onnx_spans = [(s.source, s.cue) for s in exported.analyze(text).sentences]
    assert torch_spans == onnx_spans


def test_without_the_torchscript_exporter_the_fallback_is_named(model_dir, tmp_path, monkeypatch):
    import importlib.util

    import torch

    real_export = torch.onnx.export

    def export(*args, dynamo=True, **kwargs):
        if not dynamo:
            raise RuntimeError("TorchScript exporter removed")
        return real_export(*args, dynamo=dynamo, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", export)
    out = str(tmp_path / "fallback")
    if importlib.util.find_spec("onnxscript") is None:
        with pytest.raises(RuntimeError, match="pip install onnxscript"):
            export_onnx(model_dir, out)
        assert not os.path.exists(out)
    else:
        export_onnx(model_dir, out)
        assert json.load(open(os.path.join(out, "stancelib.json")))["onnx"]["exporter"] == "dynamo"


def test_export_cli_records_parity_in_the_model_card(model_dir, tmp_path, tiny_corpus, capsys):
    from stancelib.cli import main

    out = str(tmp_path / "exported")
    assert main(["export", "--model", model_dir, "--out", out, "--check", tiny_corpus["test"]]) == 0
    printed = capsys.readouterr().out
    assert "parity on" in printed and "labels agree on 100.0%" in printed
    meta = json.load(open(os.path.join(out, "stancelib.json")))
    assert meta["onnx"]["parity"]["n"] == 3 and meta["onnx"]["parity"]["label_agreement"] == 1.0
    assert "### ONNX export (float32)" in open(os.path.join(out, "README.md")).read()


_NO_TORCH = r"""
import builtins, json, sys
real_import = builtins.__import__
def guard(name, *args, **kwargs):
    if name.split(".")[0] in ("torch", "transformers"):
        raise ImportError(f"{name} is not installed here")
    return real_import(name, *args, **kwargs)
builtins.__import__ = guard
from stancelib import StanceClassifier
clf = StanceClassifier.from_pretrained(sys.argv[1])
texts = json.loads(sys.argv[2])
print(json.dumps({"probs": clf.predict_proba(texts).tolist(),
                  "doc": [s.label for s in clf.analyze(" ".join(texts)).sentences],
                  "loaded": sorted(m for m in ("torch", "transformers") if m in sys.modules)}))
"""


def test_an_exported_folder_predicts_without_torch_or_transformers(onnx_dir):
    import json
    import subprocess
    import sys

    texts = SENTENCES[:5]
    out = subprocess.run([sys.executable, "-c", _NO_TORCH, onnx_dir, json.dumps(texts)], capture_output=True,
                         text=True, timeout=120, cwd=os.path.join(os.path.dirname(__file__), ".."))
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["loaded"] == []
    in_process = StanceClassifier.from_pretrained(onnx_dir)
    np.testing.assert_allclose(got["probs"], in_process.predict_proba(texts), atol=1e-5)
    assert got["doc"] == [s.label for s in in_process.analyze(" ".join(texts)).sentences]


def test_int8_keeps_the_heads_and_feed_forward_outputs_float(int8_dir):
    """Quantised: the encoder's other weight MatMuls; float32: every head (the pooler too) and
    the feed-forward output projections of the first half of the layers (export._quantize_int8
    says why)."""
    import onnx

    from stancelib.export import _keep_float

    nodes = onnx.load(os.path.join(int8_dir, "model.onnx")).graph.node
    float_matmuls = {n.name for n in nodes if n.op_type == "MatMul"}
    quantised = [n for n in nodes if n.op_type == "MatMulInteger"]
    assert quantised, "nothing was quantised"
    for part in ("/model/dense/", "/classifier/", "layer.0/output/dense/"):  # this fixture has no token head
        assert any(part in name for name in float_matmuls), part
    assert not any("attention/self/query" in name for name in float_matmuls)
    ffn = "/model/bert/encoder/layer.{}/output/dense/MatMul"
    assert [_keep_float(ffn.format(k), 6) for k in range(6)] == [True] * 3 + [False] * 3
    assert not _keep_float("/model/bert/encoder/layer.0/attention/output/dense/MatMul", 6)
    assert not _keep_float("/model/bert/encoder/layer.0/intermediate/dense/MatMul", 6)
    assert _keep_float("/model/span_head/MatMul", 6) and _keep_float("/model/dense/MatMul", 6)
