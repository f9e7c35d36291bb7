"""Export a saved model folder to ONNX (optionally int8), for fast CPU inference.

``export_onnx(model_dir, out_dir)`` writes ``out_dir`` as a stancelib model folder
without the classifier's PyTorch weights: ``model.onnx``, ``config.json``, the tokenizer files and
``stancelib.json`` (with an ``"onnx"`` entry). The whole document model is in the graph: the
encoder, the sentence head and the source/cue token head. ``StanceClassifier.from_pretrained``
loads such a folder with the ONNX backend by itself, without torch. ``transformers.pipeline``
does not: it needs the PyTorch folder.

The graph takes ``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64, shape
``(batch, sequence)``, both axes dynamic: windows of sentences, see ``windows.py``) and returns
``logits`` ``(batch, sequence, num_labels)`` and ``tags`` ``(batch, sequence, tags)`` (float32),
read at each sentence's ``[CLS]`` marker and word pieces.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import tempfile
import warnings

import numpy as np

from .modeling import METADATA_FILE, ONNX_FILE, atomic_save, check_model_dir, read_metadata

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAMES = ("logits", "tags")
QUANTIZE_CHOICES = ("int8",)

# Sentences of different lengths, so the traced example has padding and the
# graph keeps the attention-mask path (an unpadded example could let a tracer
# drop the mask as "all ones").
_EXAMPLE = [
    "The council met on Tuesday.",
    "According to the ministry, 40 people were hurt when the old bridge collapsed on Monday evening.",
]


def _positional(model):
    import torch

    class Positional(torch.nn.Module):
        """``DocumentModel`` with positional inputs in a fixed order."""

        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)

    # eval() matters: the exporter restores the wrapper's mode afterwards, and a
    # fresh nn.Module is in training mode, which would switch dropout on in ``model``.
    return Positional(model).eval()


def _torch_export(module, args: tuple, path: str, opset: int) -> str:
    """Export ``module`` to ``path``; return the name of the exporter that worked.

    torch 2.13 still ships the TorchScript exporter (``dynamo=False``): it needs no
    onnxscript and exports MiniLM in under a second. Where it is gone or fails, fall
    back to the torch.export-based exporter (needs ``pip install onnxscript``).
    """
    import torch

    dynamic_axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, *OUTPUT_NAMES)}
    common = dict(input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES), opset_version=opset)
    legacy_error = None
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        try:
            with warnings.catch_warnings():
                # TracerWarnings about Python booleans in transformers' mask code are expected:
                # for an encoder those values are the same for every input (checked after export).
                warnings.simplefilter("ignore")
                torch.onnx.export(module, args, path, dynamo=False, dynamic_axes=dynamic_axes,
                                  do_constant_folding=True, **common)
            return "torchscript"
        except Exception as e:  # noqa: BLE001 - any failure: try the other exporter
            legacy_error = e
    try:
        import onnxscript  # noqa: F401
    except ImportError as e:
        raise RuntimeError(
            "the TorchScript ONNX exporter is unavailable"
            + (f" ({type(legacy_error).__name__}: {legacy_error})" if legacy_error else "")
            + " and the torch.export-based one needs onnxscript: pip install onnxscript"
        ) from e
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, path, dynamo=True, external_data=False,
                          dynamic_shapes={name: {0: batch, 1: seq} for name in INPUT_NAMES}, **common)
    return "dynamo"


_FFN_OUT = re.compile(r"/layer\.(\d+)/output/dense/")


def _keep_float(node_name: str, n_layers: int) -> bool:
    """Nodes that int8 export leaves float32: the heads, and the feed-forward output projections
    of the first half of the ``n_layers`` encoder layers (``_quantize_int8`` says why).

    The pooler is ``/model/dense`` in a graph exported from ``DocumentModel`` (its own name), and
    ``pooler`` where the graph keeps the BERT module path."""
    if any(part in node_name for part in ("pooler", "classifier", "span_head")) or node_name.startswith("/model/dense/"):
        return True
    ffn_out = _FFN_OUT.search(node_name)
    return bool(ffn_out) and int(ffn_out.group(1)) < (n_layers + 1) // 2


def _quantize_int8(src: str, dst: str) -> None:
    """Dynamic int8 quantisation of the weight MatMuls (activations are quantised at run time).

    Settings measured on the trained MiniLM (test + dev, 1410 sentences, against float32):
    per-tensor weights flip 2.6% of labels and cost 1-2 macro-F1 points; per-channel
    weights with ``reduce_range`` (7-bit, no u8s8 saturation on CPUs without VNNI) flip
    0.5% and leave macro-F1 unchanged, for about 5% less speed. Quantising the
    embeddings (Gather) as well makes the file 22 MB instead of 56 MB but flips a few
    more labels, so they stay float32; so do the heads (pooler, classifier, token head):
    they are small, and the labels hang on them.

    The feed-forward output projections (``layer.N/output/dense``) of the first half of the
    layers stay float32 too: their input is the GELU output, whose outliers one dynamic
    activation scale per tensor resolves badly, and an error made early runs through every
    later layer. Measured on two trained document models (test split read in its articles, 699
    sentences, AMD EPYC AVX-512 VNNI), labels / spans agreeing with PyTorch: all quantised
    99.3 / 96.3% and 98.7 / 95.1%; first half (layers 0-2 of 6) float32 99.6 / 98.2% and
    99.6 / 97.3%, for about 17% less speed (665 -> 550 lone sentences/s) and 61 MB instead of 56;
    all six float32 99.7 / 98.8% and 99.3 / 97.8%, slower still. Keeping whole layers or the
    attention projections float32 as well did less for more.
    """
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(src, load_external_data=False).graph
    n_layers = 1 + max((int(m.group(1)) for n in graph.node if (m := _FFN_OUT.search(n.name))), default=-1)
    kept = [n.name for n in graph.node if _keep_float(n.name, n_layers)]

    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))  # quantize_dynamic logs a pre-processing hint as a root warning
    try:
        quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=kept,
                         extra_options={"MatMulConstBOnly": True})
    finally:
        root.setLevel(level)


def _check_graph(onnx_path: str, examples: list[tuple[dict, np.ndarray]], tol: float) -> float:
    """Run the exported graph on the example batches; raise if it disagrees with PyTorch."""
    from .onnx_backend import OnnxRunner

    runner = OnnxRunner(onnx_path, intra_op_num_threads=1)
    worst = 0.0
    for enc, expected in examples:
        got = runner(enc)
        diff = max(float(np.abs(g - x).max()) if g.shape == x.shape else float("inf") for g, x in zip(got, expected))
        if not diff <= tol:  # also catches NaN
            raise RuntimeError(
                f"exported graph disagrees with the PyTorch model: max |logit difference| {diff:.3g} > {tol}")
        worst = max(worst, diff)
    return worst


def export_onnx(model_dir: str, out_dir: str, quantize: str | None = None, opset: int = 17) -> str:
    """Export the PyTorch model in ``model_dir`` to ``out_dir/model.onnx``; return ``out_dir``.

    ``quantize="int8"`` applies dynamic int8 quantisation (for MiniLM: 56 MB instead of
    87 MB and about twice as fast on CPU; predictions close to, not identical with, float32). The folder is written
    atomically: an interrupted export never leaves a half-written ``out_dir``.
    """
    import torch

    from .modeling import StanceClassifier
    from .windows import build_windows, encode_documents, pad_batch

    if quantize not in (None, *QUANTIZE_CHOICES):
        raise ValueError(f"quantize must be None or one of {QUANTIZE_CHOICES}, got {quantize!r}")
    check_model_dir(model_dir, backend="torch")  # safetensors only: raises ModelLoadError naming what is missing
    if os.path.abspath(out_dir) == os.path.abspath(model_dir):
        raise ValueError("the export folder must differ from the model folder (it would replace the PyTorch model)")

    clf = StanceClassifier.from_pretrained(model_dir, device="cpu")
    tokenizer, metadata = clf.tokenizer, read_metadata(model_dir)
    module = _positional(clf.model)
    # (padded batch, PyTorch outputs): a two-sentence window beside a lone sentence (padded,
    # traced), and one lone sentence (unpadded)
    examples = []
    for docs in ([_EXAMPLE, _EXAMPLE[:1]], [_EXAMPLE[:1]]):
        encoded = encode_documents(tokenizer, docs, clf.max_length)
        enc = pad_batch(build_windows(encoded, tokenizer.cls_token_id, tokenizer.sep_token_id, clf.window_tokens),
                        tokenizer.pad_token_id)
        with torch.inference_mode():
            outputs = tuple(o.float().numpy() for o in module(*(torch.from_numpy(enc[name]) for name in INPUT_NAMES)))
        examples.append((enc, outputs))
    args = tuple(torch.from_numpy(examples[0][0][name]) for name in INPUT_NAMES)

    def write(tmp):
        scratch = tempfile.mkdtemp(prefix="stancelib-export-")
        try:
            fp32_path = os.path.join(scratch if quantize else tmp, ONNX_FILE)
            exporter = _torch_export(module, args, fp32_path, opset)
            _check_graph(fp32_path, examples, tol=1e-3)
            if quantize == "int8":
                _quantize_int8(fp32_path, os.path.join(tmp, ONNX_FILE))
                _check_graph(os.path.join(tmp, ONNX_FILE), examples, tol=float("inf"))  # runs, finite
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        shutil.copyfile(os.path.join(model_dir, "config.json"), os.path.join(tmp, "config.json"))
        tokenizer.save_pretrained(tmp)
        meta = dict(metadata)
        meta["run_name"] = f"{meta.get('run_name', 'model')}-onnx" + (f"-{quantize}" if quantize else "")
        meta["onnx"] = {"quantize": quantize, "opset": opset, "source_model": os.path.abspath(model_dir),
                        "exporter": exporter, "torch": torch.__version__.split("+")[0]}
        with open(os.path.join(tmp, METADATA_FILE), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2)

    atomic_save(write, out_dir)
    return out_dir


def default_out_dir(model_dir: str, quantize: str | None = None) -> str:
    return model_dir.rstrip("/\\") + ("-onnx" if not quantize else f"-onnx-{quantize}")


def _human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover


def parity_report(model_dir: str, onnx_dir: str, data: str) -> dict:
    """PyTorch vs exported model on a labelled file, each sentence read in its article:
    label agreement, both macro-F1s and, where both have a span head, span agreement on the
    attributed sentences. Recorded in the export's ``stancelib.json`` and model card."""
    from .data import read_records
    from .evaluation import classification_scores
    from .modeling import StanceClassifier

    records = read_records(data)
    gold = [r["label"] for r in records]
    models = (StanceClassifier.from_pretrained(model_dir, device="cpu"), StanceClassifier.from_pretrained(onnx_dir))
    torch_preds, onnx_preds = ([m.labels[int(k)] for k in m.predict_proba_records(records).argmax(1)] for m in models)
    report = {
        "data": data, "n": len(records),
        "label_agreement": float(np.mean([a == b for a, b in zip(torch_preds, onnx_preds)])),
        "macro_f1_pytorch": classification_scores(gold, torch_preds)["macro_f1"],
        "macro_f1_onnx": classification_scores(gold, onnx_preds)["macro_f1"],
    }
    if all(m.has_spans for m in models):
        found = [m.extract_spans(records) for m in models]
        same = [a[k] == b[k] for r, a, b in zip(records, *found) if r["label"] == "attributed_statement"
                for k in ("source", "cue")]
        report["span_agreement"] = float(np.mean(same)) if same else float("nan")
    return report


def _cmd_export(ns) -> int:
    out = ns.out or default_out_dir(ns.model, ns.quantize)
    export_onnx(ns.model, out, quantize=ns.quantize, opset=ns.opset)
    size = os.path.getsize(os.path.join(out, ONNX_FILE))
    print(f"wrote {os.path.join(out, ONNX_FILE)} ({_human_size(size)}"
          + (f", {ns.quantize}" if ns.quantize else ", float32") + ")")
    check = ns.check
    if check is None:  # default: the model's own test split, when it is there
        check = read_metadata(out).get("training_args", {}).get("test_file")
    if check and ns.check != "" and os.path.isfile(check):
        from .evaluation import record_model_metadata
        from .modeling import StanceClassifier

        report = parity_report(ns.model, out, check)
        exported = StanceClassifier.from_pretrained(out)
        exported.metadata["onnx"]["parity"] = report
        record_model_metadata(exported, out)
        spans = f"; spans agree on {report['span_agreement']:.1%}" if "span_agreement" in report else ""
        print(f"parity on {check} ({report['n']} sentences): labels agree on {report['label_agreement']:.1%}; "
              f"macro-F1 PyTorch {report['macro_f1_pytorch']:.4f}, ONNX {report['macro_f1_onnx']:.4f}{spans}")
    return 0


def register_cli(subparsers) -> None:
    """Add ``stancelib export --model DIR --format onnx [--quantize int8] [--out OUT]``."""
    p = subparsers.add_parser("export", help="export a model folder to ONNX for fast CPU inference")
    p.add_argument("--model", required=True, help="model folder with model.safetensors (runs/default/model)")
    p.add_argument("--format", default="onnx", choices=["onnx"], help="export format (only onnx)")
    p.add_argument("--quantize", choices=list(QUANTIZE_CHOICES), help="dynamic int8 quantisation (smaller, faster)")
    p.add_argument("--out", help="output folder (default: MODEL-onnx, or MODEL-onnx-int8 with --quantize int8)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--check", help="labelled file to compare PyTorch and ONNX on (default: the model's test "
                                    "split; '' to skip); the result goes into the export's model card")
    p.set_defaults(func=_cmd_export)
