"""Run an exported ``model.onnx`` with onnxruntime (CPU): the ONNX ``runner`` of ``StanceClassifier``.

A runner takes a padded numpy batch of windows (``input_ids``, ``attention_mask``,
``token_type_ids``) and returns float32 ``(logits, tags)``: sentence-label logits and source/cue
tag logits at every position, shapes ``(n, tokens, labels)`` and ``(n, tokens, tags)``.
Export a model folder with ``stancelib export --model DIR --format onnx``.
"""

from __future__ import annotations

import numpy as np


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the ONNX backend needs onnxruntime, which is not installed: pip install onnxruntime"
        ) from e
    return onnxruntime


def session_options(intra_op_num_threads: int | None = None, allow_spinning: bool = False):
    """onnxruntime ``SessionOptions`` for the classifier: all graph optimisations, one
    inter-op thread, ``intra_op_num_threads`` threads per operator (``None``: one per
    physical core).

    ``allow_spinning=False``: idle worker threads sleep instead of busy-waiting between
    operators. On a shared CPU (or while the tokenizer runs between batches) spinning
    threads only take cycles from the ones doing work; measured on 2 busy cores, the
    int8 MiniLM labelled about 15% more sentences per second without spinning.
    """
    ort = _import_onnxruntime()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if intra_op_num_threads is not None:
        options.intra_op_num_threads = int(intra_op_num_threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if allow_spinning else "0")
    options.log_severity_level = 3  # errors only: no warnings about unused initialisers
    return options


class OnnxRunner:
    """An onnxruntime ``InferenceSession`` on the CPU, called like ``TorchRunner``.

    ``intra_op_num_threads=None`` leaves the thread count to onnxruntime (one per
    physical core); pass a number to pin it. See ``session_options`` for the rest.
    """

    def __init__(self, path: str, intra_op_num_threads: int | None = None, allow_spinning: bool = False):
        ort = _import_onnxruntime()
        self.path = path
        options = session_options(intra_op_num_threads, allow_spinning)
        self.session = ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
        self.input_names = tuple(i.name for i in self.session.get_inputs())
        outputs = [o.name for o in self.session.get_outputs()]
        if outputs != ["logits", "tags"]:
            raise ValueError(f"{path} has outputs {outputs}, not the document model's ['logits', 'tags']: "
                             "export it again with this stancelib (`stancelib export`)")

    def __call__(self, batch: dict) -> np.ndarray:
        if "token_type_ids" in self.input_names and "token_type_ids" not in batch and "input_ids" in batch:
            batch = dict(batch, token_type_ids=np.zeros_like(batch["input_ids"]))  # one segment
        missing = [name for name in self.input_names if name not in batch]
        if missing:
            raise KeyError(f"{self.path} needs inputs {list(self.input_names)}; the batch lacks {missing}")
        feed = {name: np.ascontiguousarray(batch[name], dtype=np.int64) for name in self.input_names}
        logits, tags = self.session.run(["logits", "tags"], feed)
        return np.asarray(logits, dtype=np.float32), np.asarray(tags, dtype=np.float32)

    def __repr__(self) -> str:
        return f"OnnxRunner({self.path!r})"


class WordPieces:
    """The folder's ``tokenizer.json`` through the ``tokenizers`` library alone, for the ONNX backend.

    It gives what ``windows.encode_documents`` and ``StanceClassifier`` use (the marker, separator
    and pad ids; word pieces with character offsets, cut to ``max_length``), so prediction from an
    exported folder needs neither torch nor transformers' model classes.
    """

    def __init__(self, path: str):
        import json
        import os

        from tokenizers import Tokenizer

        self.path = path
        self._tok = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        self._tok.no_truncation()
        self._tok.no_padding()
        special = {}
        config = os.path.join(path, "tokenizer_config.json")
        if os.path.isfile(config):
            with open(config, encoding="utf-8") as f:
                special = json.load(f)
        for name, default in (("cls", "[CLS]"), ("sep", "[SEP]"), ("pad", "[PAD]")):
            token = special.get(f"{name}_token") or default
            token = token["content"] if isinstance(token, dict) else token
            token_id = self._tok.token_to_id(token)
            if token_id is None:
                raise ValueError(f"{path}: the tokenizer has no {name} token {token!r}")
            setattr(self, f"{name}_token_id", token_id)

    def __call__(self, texts: list[str], add_special_tokens: bool = False, truncation: bool = True,
                 max_length: int | None = None, return_offsets_mapping: bool = True, **_ignored) -> dict:
        encodings = self._tok.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        cut = max_length if truncation and max_length is not None else None
        return {"input_ids": [e.ids[:cut] for e in encodings], "offset_mapping": [e.offsets[:cut] for e in encodings]}

    def save_pretrained(self, path: str) -> None:
        import os
        import shutil

        for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
            if os.path.isfile(os.path.join(self.path, name)):
                shutil.copyfile(os.path.join(self.path, name), os.path.join(path, name))


class FolderConfig:
    """``config.json`` read as plain JSON: the labels and the number of positions, no transformers."""

    def __init__(self, path: str):
        import json
        import os

        with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
            values = json.load(f)
        self.id2label = {int(k): v for k, v in values.get("id2label", {}).items()}
        self.max_position_embeddings = int(values.get("max_position_embeddings", 512))
