"""``StanceClassifier``: load a saved model, predict labels, analyse articles.

A saved model is a plain Hugging Face folder (``config.json`` with our
``id2label``, ``model.safetensors``, tokenizer files), plus ``stancelib.json``
(training config, data hashes, metrics) and a model card (``README.md``), so
``transformers.pipeline("text-classification", model=DIR)`` loads it as it is.

Input rules (documented in the README):
- ``predict``/``predict_proba`` take one string or a list/tuple of strings;
  anything else, ``None`` included, raises ``TypeError`` before any work starts.
- A blank string (empty or whitespace only) has nothing to classify: its label
  is ``None`` and its probability row is NaN. Other items are unaffected.
- Long strings are truncated to the model's ``max_length`` tokens (the label
  then reflects the opening of the text); use ``analyze`` for whole articles,
  which labels each sentence separately.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field

import numpy as np

from .calibration import softmax
from .labels import LABELS
from .sentences import neighbour_context, split_sentences
from .spans import SPAN_DIR, SpanTagger

METADATA_FILE = "stancelib.json"
WEIGHTS_FILE = "model.safetensors"
ONNX_FILE = "model.onnx"
UNCERTAIN = "uncertain"  # what predict(..., min_confidence=...) returns below the threshold


class ModelLoadError(OSError):
    """A model folder is missing or incomplete; the message says what is missing."""


@dataclass
class SentenceAnalysis:
    start: int
    end: int
    text: str
    label: str | None
    probabilities: dict[str, float]
    # for attributed statements, when the model has a span head: {"start", "end", "text"},
    # offsets into the document (not the sentence)
    source: dict | None = None
    cue: dict | None = None


_PRONOUNS = {"he", "she", "they", "it", "we", "i", "his", "her", "their"}


@dataclass
class Analysis:
    """Per-sentence labels of one document, with counts, shares and a sourcing profile."""

    sentences: list[SentenceAnalysis]
    counts: dict[str, int] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)
    # each distinct source with the number of statements attributed to it, most frequent first
    sources: list[dict] = field(default_factory=list)

    def __post_init__(self):
        labelled = [s.label for s in self.sentences if s.label is not None]
        self.counts = {name: labelled.count(name) for name in LABELS}
        self.shares = {name: (n / len(labelled) if labelled else 0.0) for name, n in self.counts.items()}
        self.sources = self._sourcing_profile()

    def _sourcing_profile(self) -> list[dict]:
        # A pronoun source ("he said") counts for the last named source before it (LABELS.md rule 11).
        # An attributed sentence with no source inside it (a quote continuation, rule 12) counts for
        # the source of the attributed sentence right before it; one that follows anything else
        # has no known source and is not counted.
        tally: dict[str, dict] = {}
        last_named = previous = None  # previous: the source of the sentence just before, if attributed
        for s in self.sentences:
            if s.label != "attributed_statement":
                previous = None
                continue
            if s.source:
                name = s.source["text"].strip()
                if name.lower() in _PRONOUNS and last_named:
                    name = last_named
                elif name.lower() not in _PRONOUNS:
                    last_named = name
            elif previous:
                name = previous
            else:
                continue
            previous = name
            entry = tally.setdefault(name.lower(), {"source": name, "statements": 0})
            entry["statements"] += 1
        return sorted(tally.values(), key=lambda e: (-e["statements"], e["source"].lower()))

    def to_dict(self) -> dict:
        return {"sentences": [asdict(s) for s in self.sentences], "counts": self.counts,
                "shares": self.shares, "sources": self.sources}

    def to_table(self, width: int = 80) -> str:
        short = {"neutral_report": "NEUTRAL", "attributed_statement": "ATTRIB", "unattributed_claim": "CLAIM"}
        lines = []
        for s in self.sentences:
            conf = max(s.probabilities.values()) if s.label else float("nan")
            text = s.text if len(s.text) <= width else s.text[: width - 3] + "..."
            lines.append(f"{short.get(s.label, '-'):8s} {conf:4.2f}  {text}")
            if s.source or s.cue:
                lines.append(f"{'':15s}source: {s.source['text'] if s.source else '-'}   cue: {s.cue['text'] if s.cue else '-'}")
        lines.append("")
        lines.append("  ".join(f"{name}: {self.counts[name]} ({self.shares[name]:.0%})" for name in LABELS))
        if self.sources:
            lines.append("sources: " + "; ".join(f"{e['source']} ({e['statements']})" for e in self.sources))
        return "\n".join(lines)


def _check_texts(texts) -> tuple[list[str], bool]:
    """Return ``(list_of_texts, was_single)``; raise ``TypeError`` for anything but strings."""
    if isinstance(texts, str):
        return [texts], True
    if isinstance(texts, (list, tuple)):
        for k, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"item {k} is {type(t).__name__}, not str: every input must be a string")
        return list(texts), False
    raise TypeError(f"expected a string or a list of strings, got {type(texts).__name__}")


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


class TorchRunner:
    """Runs a PyTorch sequence-classification model on a tokenised batch (numpy in, logits out)."""

    def __init__(self, model):
        self.model = model.eval()

    def __call__(self, batch: dict) -> np.ndarray:
        import torch

        device = next(self.model.parameters()).device
        with torch.inference_mode():
            tensors = {k: torch.from_numpy(v).to(device) for k, v in batch.items()}
            return self.model(**tensors).logits.float().cpu().numpy()


def atomic_save(write, target: str) -> None:
    """Call ``write(tmpdir)`` and move the result to ``target`` in one rename.

    An interrupted save leaves at worst a hidden ``.tmp`` folder beside the
    target, never a half-written folder under the target's name.
    """
    parent = os.path.dirname(os.path.abspath(target)) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.tmp-", dir=parent)
    try:
        write(tmp)
        old = None
        if os.path.exists(target):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old-", dir=parent)
            os.rmdir(old)
            os.replace(target, old)
        os.replace(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class StanceClassifier:
    """A fine-tuned encoder with a three-way sentence head."""

    def __init__(self, model, tokenizer, max_length: int = 128, metadata: dict | None = None, batch_size: int = 64,
                 runner=None, config=None):
        """``model`` is a PyTorch model; for another backend pass ``model=None``, a ``runner``
        (tokenised numpy batch -> logits) and the model's ``config``."""
        self.model = model.eval() if model is not None else None
        self.runner = runner or TorchRunner(model)
        self.config = config if config is not None else model.config
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.metadata = metadata or {}
        self.batch_size = batch_size
        self._span_tagger = None  # a spans.SpanTagger, when the model folder has one
        self._span_dir = None  # loaded on first use: prediction alone never pays its ~130 MB
        # temperature scaling fitted on the dev split at training time (1.0: uncalibrated)
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
        ``model.onnx`` (``backend="onnx"``); ``"auto"`` takes what the folder holds, PyTorch first.
        Never pickles, never remote code."""
        import torch
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        backend = check_model_dir(path, backend)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
            if backend == "onnx":
                from .onnx_backend import OnnxRunner

                config = AutoConfig.from_pretrained(path, local_files_only=True, trust_remote_code=False)
                model, runner = None, OnnxRunner(os.path.join(path, ONNX_FILE), intra_op_num_threads=num_threads)
            else:
                model = AutoModelForSequenceClassification.from_pretrained(
                    path, use_safetensors=True, local_files_only=True, trust_remote_code=False
                )
                config, runner = model.config, None
        except Exception as e:  # safetensors, JSON and config errors all mean the same to the user
            raise ModelLoadError(f"{path}: could not load the model ({type(e).__name__}: {e})") from e
        metadata = read_metadata(path)
        max_length = int(metadata.get("max_length", 128))
        if model is not None:
            model = model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        clf = cls(model, tokenizer, max_length=max_length, metadata=metadata, batch_size=batch_size,
                  runner=runner, config=config)
        if os.path.isfile(os.path.join(path, SPAN_DIR, "config.json")):
            clf._span_dir = os.path.join(path, SPAN_DIR)
        return clf

    @property
    def span_tagger(self):
        """The source/cue head (``spans.SpanTagger``) or ``None``; loaded from the folder on first use."""
        if self._span_tagger is None and self._span_dir is not None:
            try:
                self._span_tagger = SpanTagger.from_pretrained(self._span_dir)
            except Exception as e:
                raise ModelLoadError(f"{self._span_dir}: could not load the span head ({type(e).__name__}: {e})") from e
        return self._span_tagger

    @span_tagger.setter
    def span_tagger(self, tagger):
        self._span_tagger, self._span_dir = tagger, None

    def save_pretrained(self, path: str, model_card: str | None = None) -> None:
        """Write the model folder atomically (see ``atomic_save``)."""
        if self.model is None:
            raise ValueError("only a PyTorch-backed classifier can be saved; export ONNX with `stancelib export`")

        def write(tmp):
            self.model.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer.save_pretrained(tmp)
            with open(os.path.join(tmp, METADATA_FILE), "w", encoding="utf-8") as f:
                json.dump(self.metadata | {"max_length": self.max_length, "labels": list(self.labels)}, f, indent=2)
            if model_card is not None:
                with open(os.path.join(tmp, "README.md"), "w", encoding="utf-8") as f:
                    f.write(model_card)
            if self.span_tagger is not None:
                self.span_tagger.save_pretrained(os.path.join(tmp, SPAN_DIR))

        atomic_save(write, path)

    # ---- prediction ---------------------------------------------------------
    @property
    def uses_context(self) -> bool:
        """Was this model trained with the neighbouring sentences as a second segment?"""
        return bool(self.metadata.get("training_args", {}).get("context", False))

    @property
    def context_window(self) -> int:
        """How many sentences on each side a context-aware model reads (1 for models trained before the setting)."""
        return int(self.metadata.get("training_args", {}).get("context_window", 1))

    def _logits(self, texts: list[str], show_progress: bool | None = None, contexts: list[str] | None = None) -> np.ndarray:
        """Logits for non-blank texts, batched by length with dynamic padding."""
        from tqdm.auto import tqdm

        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch; order is restored on output.
        order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
        batches = [order[k : k + self.batch_size] for k in range(0, len(order), self.batch_size)]
        if show_progress is None:
            show_progress = len(batches) > 20
        for batch in tqdm(batches, desc="predict", unit="batch", disable=not show_progress):
            pair = [contexts[k] for k in batch] if contexts is not None else None
            enc = self.tokenizer(
                [texts[k] for k in batch], pair, padding=True,
                # with a context segment, only the context is cut when too long
                truncation="only_second" if pair else True,
                max_length=self.max_length * (3 if pair else 1), return_tensors="np",
            )
            out[batch] = self.runner(dict(enc))
        return out

    def predict_proba(self, texts, show_progress: bool | None = None, calibrated: bool = True,
                      contexts: list[str] | None = None) -> np.ndarray:
        """Probabilities, shape ``(n, 3)`` (``(3,)`` for one string), columns in ``self.labels`` order.

        ``calibrated=True`` applies the temperature fitted on the dev split at
        training time; it never changes which label is most probable. ``contexts``
        (one string per text: the neighbouring sentences) is used by a model
        trained with ``context: true``; without it such a model sees an empty
        context, as for a sentence on its own.
        """
        items, single = _check_texts(texts)
        if contexts is not None:
            contexts, _ = _check_texts(contexts)
            if len(contexts) != len(items):
                raise ValueError(f"{len(contexts)} contexts for {len(items)} texts")
        probs = np.full((len(items), len(self.labels)), np.nan, dtype=np.float32)
        live = [k for k, t in enumerate(items) if t.strip()]
        if live:
            ctx = None
            if self.uses_context:
                ctx = [contexts[k] if contexts is not None else "" for k in live]
            logits = self._logits([items[k] for k in live], show_progress, ctx)
            probs[live] = softmax(logits, self.temperature if calibrated else 1.0)
        return probs[0] if single else probs

    def predict(self, texts, show_progress: bool | None = None, min_confidence: float | None = None,
                contexts: list[str] | None = None):
        """Label names: one string in, one label out; a list in, a list out.

        Blank strings get ``None``. With ``min_confidence``, a sentence whose most
        probable label has a (calibrated) probability below it gets ``"uncertain"``.
        """
        items, single = _check_texts(texts)
        if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must lie in [0, 1], got {min_confidence}")
        probs = self.predict_proba(items, show_progress, contexts=contexts)
        labels = []
        for row in probs:
            if np.isnan(row).any():
                labels.append(None)
            elif min_confidence is not None and row.max() < min_confidence:
                labels.append(UNCERTAIN)
            else:
                labels.append(self.labels[int(row.argmax())])
        return labels[0] if single else labels

    def predict_proba_documents(self, documents, calibrated: bool = True) -> list[np.ndarray]:
        """Probabilities for sentences that come already split, grouped by document.

        ``documents`` is a list of documents, each a list of sentence strings in order; the
        result has one ``(n_sentences, 3)`` array per document (columns in ``self.labels``
        order), each sentence read with its neighbours as ``analyze`` reads it. Blank
        sentences get NaN rows.
        """
        if not isinstance(documents, (list, tuple)):
            raise TypeError(f"expected a list of documents (lists of sentence strings), got {type(documents).__name__}")
        docs = []
        for k, doc in enumerate(documents):
            try:
                docs.append(_check_texts(doc)[0] if not isinstance(doc, str) else None)
            except TypeError as e:
                raise TypeError(f"document {k}: {e}") from None
            if docs[-1] is None:
                raise TypeError(f"document {k} is a str: give each document as a list of sentence strings")
        flat = [s for doc in docs for s in doc]
        contexts = None
        if self.uses_context:
            contexts = [neighbour_context(doc, k, self.context_window) for doc in docs for k in range(len(doc))]
        probs = self.predict_proba(flat, contexts=contexts, calibrated=calibrated) if flat else \
            np.zeros((0, len(self.labels)), dtype=np.float32)
        out, k = [], 0
        for doc in docs:
            out.append(probs[k:k + len(doc)])
            k += len(doc)
        return out

    def predict_dataset(self, ds, text_column: str = "text", batch_size: int = 64, label_column: str = "label"):
        """A ``datasets.Dataset`` with ``label`` and ``p_<label>`` columns added (``Dataset.map``, batched)."""
        from .batch import predict_dataset

        return predict_dataset(self, ds, text_column, batch_size, label_column)

    def analyze(self, texts, spans: bool = True):
        """Split a document into sentences and label each (offsets index into the document).

        One string in, one ``Analysis`` out; a list of documents in, a list out. All
        sentences of all documents are predicted together, in length-sorted batches.
        ``spans=False`` skips the source/cue head (labels only, about the cost of ``predict``).
        """
        if isinstance(texts, str):
            return self._analyze_many([texts], spans)[0]
        if isinstance(texts, (list, tuple)) and all(isinstance(t, str) for t in texts):
            return self._analyze_many(list(texts), spans)
        raise TypeError(f"analyze expects a string or a list of strings, got {type(texts).__name__}")

    def _analyze_many(self, docs: list[str], with_spans: bool = True) -> list[Analysis]:
        spans = [split_sentences(doc) for doc in docs]
        flat = [doc[s:e] for doc, doc_spans in zip(docs, spans) for s, e in doc_spans]
        contexts = None
        if self.uses_context:
            contexts = [neighbour_context(sents, k, self.context_window)
                        for sents in ([doc[a:b] for a, b in doc_spans] for doc, doc_spans in zip(docs, spans))
                        for k in range(len(sents))]
        probs = self.predict_proba(flat, contexts=contexts) if flat else np.zeros((0, len(self.labels)))
        labels = [self.labels[int(row.argmax())] for row in probs]
        found: dict[int, dict] = {}
        if with_spans and self.span_tagger is not None:
            attributed = [k for k, lab in enumerate(labels) if lab == "attributed_statement"]
            found = dict(zip(attributed, self.span_tagger.extract([flat[k] for k in attributed])))
        results, k = [], 0
        for doc_spans in spans:
            sentences = []
            for s, e in doc_spans:
                shift = lambda span: None if span is None else {  # noqa: E731
                    "start": span["start"] + s, "end": span["end"] + s, "text": span["text"]}
                hit = found.get(k, {})
                sentences.append(SentenceAnalysis(
                    s, e, flat[k], labels[k], {n: round(float(p), 4) for n, p in zip(self.labels, probs[k])},
                    shift(hit.get("source")), shift(hit.get("cue"))))
                k += 1
            results.append(Analysis(sentences))
        return results
