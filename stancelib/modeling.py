"""``StanceClassifier``: load a saved document model, label sentences, analyse articles.

A saved model is a plain Hugging Face folder (``config.json`` with our ``id2label``,
``model.safetensors``, tokenizer files) plus ``span_head.safetensors`` (the source/cue
token head), ``stancelib.json`` (training config, window settings, data hashes, metrics)
and a model card (``README.md``). ``transformers.pipeline("text-classification",
model=DIR)`` loads it as it is and labels a lone sentence as ``predict`` does.

Every input goes through one path: sentences are packed into windows (``windows.py``),
the encoder runs once per window, and each sentence is labelled from its ``[CLS]``
marker in the window where it has most context; a lone string is a window of one.

Input rules (documented in the README):
- ``predict``/``predict_proba`` take one string or a list/tuple of strings;
  anything else, ``None`` included, raises ``TypeError`` naming the item before any
  work starts; a string that cannot be encoded as UTF-8 (a lone surrogate) raises
  ``ValueError`` naming the item.
- A blank string (empty or whitespace only) has nothing to classify: its label
  is ``None`` and its probability row is NaN. Other items are unaffected.
- Long strings are cut to the model's ``max_length`` tokens (the label then reflects
  the opening of the text); use ``analyze`` for whole articles, which labels each
  sentence separately.
"""

from __future__ import annotations

import json
import os

import numpy as np

from . import __version__
from .analysis import Analysis, SentenceAnalysis
from .atomic import atomic_save
from .calibration import softmax
from .labels import LABELS
from .sentences import has_text, split_sentences
from .spans import decode
from .windows import (batches, best_windows, build_windows, documents_from_records, encode_documents,
                      pad_batch)

METADATA_FILE = "stancelib.json"
WEIGHTS_FILE = "model.safetensors"
ONNX_FILE = "model.onnx"
SPAN_HEAD_FILE = "span_head.safetensors"
UNCERTAIN = "uncertain"  # what predict(..., min_confidence=...) returns below the threshold
MODEL_FORMAT = 2  # stancelib.json "document_model" format: windows, one encoder, span head beside it
DEFAULT_WINDOW_TOKENS = 256

__all__ = ["Analysis", "SentenceAnalysis", "StanceClassifier", "ModelLoadError", "UNCERTAIN", "atomic_save",
           "read_metadata", "check_model_dir"]


class ModelLoadError(OSError):
    """A model folder is missing, incomplete or of an older format; the message says what to do."""


def check_texts(texts, what: str = "input") -> tuple[list[str], bool]:
    """Return ``(list_of_texts, was_single)``; ``TypeError``/``ValueError`` naming the bad item."""
    if isinstance(texts, str):
        items, single = [texts], True
    elif isinstance(texts, (list, tuple)):
        items, single = list(texts), False
    else:
        raise TypeError(f"expected a string or a list of strings, got {type(texts).__name__}")
    for k, t in enumerate(items):
        if not isinstance(t, str):
            raise TypeError(f"{what} item {k} is {type(t).__name__}, not str: every input must be a string")
        try:
            t.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(f"{what} item {k} is not valid Unicode text ({e.reason} at character {e.start}: "
                             "a lone surrogate, usually from a bad decode)") from None
    return items, single


def read_metadata(path: str) -> dict:
    """A model folder's ``stancelib.json`` (``{}`` for a plain Hugging Face folder without one)."""
    meta_path = os.path.join(path, METADATA_FILE)
    if not os.path.isfile(meta_path):
        return {}
    with open(meta_path, encoding="utf-8") as f:
        return json.load(f)


def check_model_dir(path: str, backend: str = "auto") -> str:
    """Raise ``ModelLoadError`` naming what a model folder lacks; return the backend to use."""
    if not os.path.isdir(path):
        raise ModelLoadError(f"model folder not found: {path}")
    has = lambda name: os.path.isfile(os.path.join(path, name))  # noqa: E731
    if os.path.isdir(os.path.join(path, "spans")) or (has(METADATA_FILE) and "document_model" not in read_metadata(path)
                                                      and read_metadata(path).get("training_args")):
        raise ModelLoadError(
            f"{path} was saved by stancelib 0.1 (a pair-with-context model with a separate span encoder); "
            f"this is stancelib {__version__}, whose document model reads windows of sentences with one "
            "encoder: retrain it with `stancelib train --config ...` (stancelib >= 0.2)")
    if backend == "auto":
        backend = "torch" if has(WEIGHTS_FILE) or not has(ONNX_FILE) else "onnx"
    if backend not in ("torch", "onnx"):
        raise ValueError(f"backend must be 'auto', 'torch' or 'onnx', got {backend!r}")
    missing = [name for name in ("config.json", WEIGHTS_FILE if backend == "torch" else ONNX_FILE) if not has(name)]
    if not (has("tokenizer.json") or has("vocab.txt")):
        missing.append("tokenizer.json (or vocab.txt)")
    if missing:
        pickles = [n for n in ("pytorch_model.bin", "model.bin") if has(n)]
        hint = " (pickled weights are present but never loaded: convert them to safetensors)" if pickles else ""
        raise ModelLoadError(f"{path} is not a complete stancelib model: missing {', '.join(missing)}{hint}")
    return backend


class StanceClassifier:
    """A fine-tuned encoder that labels every sentence of a window from its ``[CLS]`` marker."""

    def __init__(self, model, tokenizer, max_length: int = 64, metadata: dict | None = None, batch_size: int = 64,
                 runner=None, config=None, window_tokens: int | None = None, window_overlap: int | None = None):
        """``model`` is a ``network.DocumentModel`` or a BERT-style sequence classifier (wrapped
        without a span head); for another backend pass ``model=None``, a ``runner`` (padded
        numpy batch -> ``(logits, tags)``) and the model's ``config``."""
        if model is not None:
            from .network import DocumentModel, TorchRunner

            if not isinstance(model, DocumentModel):
                model = DocumentModel(model, with_spans=False)
            model.marker_id = tokenizer.cls_token_id  # markers attend to their own sentence (network.py)
            model.eval()
            runner = runner or TorchRunner(model)
        self.model = model
        self.runner = runner
        self.config = config if config is not None else model.config
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.metadata = metadata or {}
        self.batch_size = batch_size
        settings = self.metadata.get("document_model", {})
        positions = getattr(self.config, "max_position_embeddings", 512)
        self.window_tokens = int(window_tokens or settings.get("window_tokens") or min(DEFAULT_WINDOW_TOKENS, positions))
        overlap = window_overlap if window_overlap is not None else settings.get("window_overlap")
        # an eighth of the window: every sentence keeps at least about 16 tokens of context on each
        # side in the window it is labelled from, for about 1.15x the tokens of one pass
        self.window_overlap = int(self.window_tokens // 8 if overlap is None else overlap)
        if not self.max_length <= self.window_tokens <= positions:
            raise ValueError(f"window_tokens ({self.window_tokens}) must lie between max_length ({self.max_length}) "
                             f"and the encoder's {positions} positions")
        # spans need the token head (a model built without one, or exported without, has none)
        self.has_spans = bool(settings.get("span_head", model is not None and model.span_head is not None))
        # temperature scaling fitted at training time (1.0: uncalibrated)
        self.temperature = float(self.metadata.get("calibration", {}).get("temperature", 1.0))
        id2label = {int(k): v for k, v in self.config.id2label.items()}
        self.labels = tuple(id2label[i] for i in range(len(id2label)))
        if set(self.labels) != set(LABELS):
            raise ModelLoadError(f"model labels {self.labels} are not stancelib's labels {LABELS}")

    # ---- loading and saving -------------------------------------------------
    @classmethod
    def from_pretrained(cls, path: str, device: str | None = None, batch_size: int = 64,
                        backend: str = "auto", num_threads: int | None = None) -> "StanceClassifier":
        """Load a saved model folder: safetensors weights (``backend="torch"``) or an exported
        ``model.onnx`` (``backend="onnx"``, which needs no torch); ``"auto"`` takes what the
        folder holds, PyTorch first. Never pickles, never remote code."""
        backend = check_model_dir(path, backend)
        metadata = read_metadata(path)
        try:
            if backend == "onnx":
                # tokenizers + onnxruntime only: an exported folder predicts without torch
                from .onnx_backend import FolderConfig, OnnxRunner, WordPieces

                tokenizer, config = WordPieces(path), FolderConfig(path)
                model, runner = None, OnnxRunner(os.path.join(path, ONNX_FILE), intra_op_num_threads=num_threads)
            else:
                from transformers import AutoTokenizer

                tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
                model, runner, config = _load_torch(path, device), None, None
        except ModelLoadError:
            raise
        except Exception as e:  # safetensors, JSON and config errors all mean the same to the user
            raise ModelLoadError(f"{path}: could not load the model ({type(e).__name__}: {e})") from e
        return cls(model, tokenizer, max_length=int(metadata.get("max_length", 64)), metadata=metadata,
                   batch_size=batch_size, runner=runner, config=config)

    def save_pretrained(self, path: str, model_card: str | None = None) -> None:
        """Write the model folder atomically (see ``atomic.atomic_save``)."""
        if self.model is None:
            raise ValueError("only a PyTorch-backed classifier can be saved; export ONNX with `stancelib export`")

        def write(tmp):
            self.model.encoder.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer.save_pretrained(tmp)
            self.model.save_span_head(os.path.join(tmp, SPAN_HEAD_FILE))
            with open(os.path.join(tmp, METADATA_FILE), "w", encoding="utf-8") as f:
                json.dump(self.metadata | {"max_length": self.max_length, "labels": list(self.labels),
                                           "document_model": self.settings()}, f, indent=2)
            if model_card is not None:
                with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as f:
                    f.write(model_card)

        atomic_save(write, path)

    def settings(self) -> dict:
        """How this model reads text (saved as ``document_model`` in ``stancelib.json``)."""
        return {"format": MODEL_FORMAT, "window_tokens": self.window_tokens, "window_overlap": self.window_overlap,
                "span_head": self.has_spans, "stancelib_version": __version__}

    # ---- the one reading path -----------------------------------------------
    def _run_documents(self, documents: list[list[str]], with_tags: bool = False, show_progress: bool | None = None,
                       lone: bool = False):
        """Raw logits ``(n_i, labels)`` per document and, with ``with_tags``, per sentence the
        tag probabilities of its own word pieces with their character offsets.

        ``lone=True`` reads every sentence as a window of one (what ``predict`` of strings does).
        """
        from tqdm.auto import tqdm

        encoded = encode_documents(self.tokenizer, documents, self.max_length)
        if lone:
            windows = build_windows(encoded, self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, self.max_length)
        else:
            windows = build_windows(encoded, self.tokenizer.cls_token_id, self.tokenizer.sep_token_id,
                                    self.window_tokens, self.window_overlap)
        chosen = best_windows(windows)
        wanted: dict[int, list[tuple[int, int]]] = {}
        for (d, j), (w, slot) in chosen.items():
            wanted.setdefault(w, []).append((slot, d, j))
        logits = [np.zeros((len(doc), len(self.labels)), dtype=np.float32) for doc in documents]
        tags: list[list] = [[None] * len(doc) for doc in documents]
        plan = batches(windows, self.batch_size, max_tokens=max(self.window_tokens, 64) * 32)
        if show_progress is None:
            show_progress = len(plan) > 20
        for batch in tqdm(plan, desc="predict", unit="batch", disable=not show_progress):
            out_logits, out_tags = self.runner(pad_batch([windows[w] for w in batch], self.tokenizer.pad_token_id))
            for row, w in enumerate(batch):
                win = windows[w]
                for slot, d, j in wanted.get(w, []):
                    logits[d][j] = out_logits[row, win.markers[slot]]
                    if with_tags:  # raw tag logits: decoded (and softmaxed) for attributed sentences only
                        a, b = win.pieces[slot]
                        tags[d][j] = (out_tags[row, a:b], encoded[d].offsets[j])
        return logits, tags

    # ---- prediction ---------------------------------------------------------
    def predict_proba(self, texts, show_progress: bool | None = None, calibrated: bool = True) -> np.ndarray:
        """Probabilities, shape ``(n, 3)`` (``(3,)`` for one string), columns in ``self.labels`` order.

        Each string is read on its own (a window of one). ``calibrated=True`` applies the
        temperature fitted at training time; it never changes which label is most probable.
        """
        items, single = check_texts(texts)
        probs = np.full((len(items), len(self.labels)), np.nan, dtype=np.float32)
        live = [k for k, t in enumerate(items) if has_text(t)]
        if live:
            logits, _ = self._run_documents([[items[k]] for k in live], show_progress=show_progress, lone=True)
            probs[live] = softmax(np.concatenate(logits), self.temperature if calibrated else 1.0)
        return probs[0] if single else probs

    def predict(self, texts, show_progress: bool | None = None, min_confidence: float | None = None):
        """Label names: one string in, one label out; a list in, a list out.

        Blank strings get ``None``. With ``min_confidence``, a sentence whose most
        probable label has a (calibrated) probability below it gets ``"uncertain"``.
        """
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must lie in [0, 1], got {min_confidence}")
        items, single = check_texts(texts)
        labels = [self._label(row, min_confidence) for row in self.predict_proba(items, show_progress)]
        return labels[0] if single else labels

    def _label(self, row: np.ndarray, min_confidence: float | None = None):
        if np.isnan(row).any():
            return None
        if min_confidence is not None and row.max() < min_confidence:
            return UNCERTAIN
        return self.labels[int(row.argmax())]

    def predict_proba_documents(self, documents, calibrated: bool = True,
                                show_progress: bool | None = None) -> list[np.ndarray]:
        """Probabilities for sentences that come already split, grouped by document.

        ``documents`` is a list of documents, each a list of sentence strings in order; the
        result has one ``(n_sentences, 3)`` array per document (columns in ``self.labels``
        order), each sentence read in its window as ``analyze`` reads it. Blank sentences get
        NaN rows and are left out of the windows.
        """
        if not isinstance(documents, (list, tuple)):
            raise TypeError(f"expected a list of documents (lists of sentence strings), got {type(documents).__name__}")
        docs = []
        for k, doc in enumerate(documents):
            if isinstance(doc, str):
                raise TypeError(f"document {k} is a str: give each document as a list of sentence strings")
            docs.append(check_texts(doc, what=f"document {k}:")[0])
        live = [[j for j, s in enumerate(doc) if has_text(s)] for doc in docs]
        logits, _ = self._run_documents([[doc[j] for j in keep] for doc, keep in zip(docs, live)],
                                        show_progress=show_progress)
        out = []
        for doc, keep, lg in zip(docs, live, logits):
            probs = np.full((len(doc), len(self.labels)), np.nan, dtype=np.float32)
            if keep:
                probs[keep] = softmax(lg, self.temperature if calibrated else 1.0)
            out.append(probs)
        return out

    def predict_proba_records(self, records: list[dict], calibrated: bool = True) -> np.ndarray:
        """Probabilities of sentence records, each read in its document (``doc``/``i``; see
        ``windows.documents_from_records``); records without a document stand alone."""
        logits, _ = self.read_records(records)
        return softmax(logits, self.temperature if calibrated else 1.0) if len(records) else logits

    def read_records(self, records: list[dict], with_spans: bool = False) -> tuple[np.ndarray, list[dict] | None]:
        """One pass over sentence records read in their documents: raw logits ``(n, 3)`` and, with
        ``with_spans``, each record's ``{"source", "cue"}`` (offsets into its text), whatever its label."""
        if with_spans and not self.has_spans:
            raise ValueError("this model has no source/cue head (trained with train_spans: false)")
        documents, where = documents_from_records(records)
        logits, tags = self._run_documents(documents, with_tags=with_spans)
        out = np.stack([logits[d][j] for d, j in where]) if where else np.zeros((0, len(self.labels)), np.float32)
        spans = ([decode(softmax(tags[d][j][0]), tags[d][j][1], documents[d][j]) for d, j in where]
                 if with_spans else None)
        return out, spans

    def extract_spans(self, records: list[dict]) -> list[dict]:
        """``{"source", "cue"}`` spans (offsets into each record's text, or ``None``) for sentence
        records, each read in its document as ``predict_proba_records`` reads it, whatever its label."""
        return self.read_records(records, with_spans=True)[1]

    def predict_dataset(self, ds, text_column: str = "text", batch_size: int = 64, label_column: str = "label"):
        """A ``datasets.Dataset`` with ``label`` and ``p_<label>`` columns added (``Dataset.map``, batched)."""
        from .batch import predict_dataset

        return predict_dataset(self, ds, text_column, batch_size, label_column)

    def analyze(self, texts, spans: bool = True):
        """Split documents into sentences and label each in its window (offsets index into the document).

        One string in, one ``Analysis`` out; a list of documents in, a list out. All windows of
        all documents run together, in length-sorted batches. Attributed sentences get their
        source and cue from the token head of the same pass (``spans=False`` leaves them out);
        an attributed sentence with no source of its own (a quote continuation, LABELS.md rule
        12) takes the source of the attributed sentence before it.
        """
        if isinstance(texts, str):
            return self._analyze_many([texts], spans)[0]
        if not isinstance(texts, (list, tuple)):
            raise TypeError(f"analyze expects a string or a list of strings, got {type(texts).__name__}")
        docs, _ = check_texts(texts, what="analyze:")
        return self._analyze_many(docs, spans)

    def _analyze_many(self, docs: list[str], with_spans: bool = True) -> list[Analysis]:
        check_texts(docs, what="analyze:")
        # a stretch of nothing but control characters is no sentence (has_text): it gets no row
        offsets = [[(s, e) for s, e in split_sentences(doc) if has_text(doc[s:e])] for doc in docs]
        sentences = [[doc[s:e] for s, e in doc_spans] for doc, doc_spans in zip(docs, offsets)]
        with_spans = with_spans and self.has_spans
        logits, tags = self._run_documents(sentences, with_tags=with_spans)
        results = []
        for doc_spans, sents, lg, tg in zip(offsets, sentences, logits, tags):
            probs = softmax(lg, self.temperature) if len(sents) else lg
            labels = [self.labels[int(row.argmax())] for row in probs]
            out, last_source = [], None
            for j, ((s, e), text) in enumerate(zip(doc_spans, sents)):
                source = cue = None
                if with_spans and labels[j] == "attributed_statement":
                    found = decode(softmax(tg[j][0]), tg[j][1], text)
                    shift = lambda span: None if span is None else {  # noqa: E731
                        "start": span["start"] + s, "end": span["end"] + s, "text": span["text"]}
                    source, cue = shift(found["source"]), shift(found["cue"])
                    # rules 11/12: a continuation's speaker stands in the attributed sentence before it
                    source = source or last_source
                    last_source = source
                else:
                    last_source = None
                out.append(SentenceAnalysis(s, e, text, labels[j],
                                            {n: round(float(p), 4) for n, p in zip(self.labels, probs[j])},
                                            source, cue))
            results.append(Analysis(out))
        return results


def _load_torch(path: str, device: str | None):
    """The PyTorch ``DocumentModel`` of a folder (torch is imported only here)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from .network import DocumentModel

    encoder = AutoModelForSequenceClassification.from_pretrained(
        path, use_safetensors=True, local_files_only=True, trust_remote_code=False)
    head_path = os.path.join(path, SPAN_HEAD_FILE)
    head = DocumentModel.load_span_head(head_path, encoder.config.hidden_size) if os.path.isfile(head_path) else None
    model = DocumentModel(encoder, span_head=head, with_spans=head is not None)
    return model.to(device or ("cuda" if torch.cuda.is_available() else "cpu")).eval()
