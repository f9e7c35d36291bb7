"""Prediction of a corpus, chunk by chunk: ``predict_file`` (resumable, shardable) and ``predict_dataset``."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid

import numpy as np

from ..labels import LABELS
from ..sentences import has_text
from .folder import (
    CorpusError, FORMAT_VERSION, LOCK_FILE, PROB_COLUMNS, STATE_FILE, _META_KEY, _check_shard, _list_parts,
    _locked, _model_identity, _now, _part_info, _part_name, _read_state, _write_json, _write_parquet,
)
from .reader import _Input, _fingerprint, _text_problem


def _output_schema(mode: str, id_type=None):
    import pyarrow as pa

    fields = [pa.field("row", pa.int64(), nullable=False)]
    if id_type is not None:
        fields.append(pa.field("id", id_type))
    if mode == "documents":
        fields += [pa.field("sentence", pa.int32()), pa.field("start", pa.int32()), pa.field("end", pa.int32())]
    fields += [pa.field("text", pa.string()), pa.field("label", pa.string())]
    fields += [pa.field(c, pa.float32()) for c in PROB_COLUMNS]
    if mode == "documents":
        span = pa.struct([pa.field("start", pa.int32()), pa.field("end", pa.int32()), pa.field("text", pa.string())])
        fields += [pa.field("source", span), pa.field("cue", span)]
    fields.append(pa.field("error", pa.string()))
    return pa.schema(fields)


def _failed(e: Exception, what: str = "prediction") -> str:
    return f"{what} failed: {type(e).__name__}: {e}"


def _safe_proba(clf, texts: list[str]) -> tuple[np.ndarray, list[str | None]]:
    """Probabilities in ``LABELS`` order and a per-text error (``None`` if fine).

    One call for the whole list; if it fails, text by text, so one text that breaks
    the tokenizer or the model costs its own row only."""
    order = [clf.labels.index(name) for name in LABELS]
    errors: list[str | None] = [None] * len(texts)
    if not texts:
        return np.zeros((0, len(LABELS)), dtype=np.float32), errors
    try:
        probs = np.asarray(clf.predict_proba(texts, show_progress=False), dtype=np.float32)
    except Exception:  # noqa: BLE001 - isolate the bad text below
        probs = np.full((len(texts), len(LABELS)), np.nan, dtype=np.float32)
        for k, text in enumerate(texts):
            try:
                probs[k] = clf.predict_proba([text], show_progress=False)[0]
            except Exception as e:  # noqa: BLE001
                errors[k] = _failed(e)
    return probs[:, order], errors


def _safe_analyze(clf, docs: list[str]) -> list:
    """``clf.analyze`` of each document (all in one call), or the error message of the one that fails."""
    if not docs:
        return []
    try:
        return list(clf.analyze(docs))
    except Exception:  # noqa: BLE001 - isolate the bad document below
        out = []
        for doc in docs:
            try:
                out.append(clf.analyze(doc))
            except Exception as e:  # noqa: BLE001
                out.append(_failed(e, "analysis"))
        return out


def _predict_chunk(clf, items: list, mode: str, schema):
    """Output table for ``items`` = ``[(row, text, id, error, keys), ...]`` (``keys`` optional)."""
    import pyarrow as pa

    names = schema.names
    out: list[dict] = []
    if mode == "sentences":
        score_at, to_score = [], []
        for row, text, ident, error, *_ in items:
            error = error or _text_problem(text)
            out.append({"row": row, "id": ident, "text": None if error else text, "error": error})
            if error is None and has_text(text):
                score_at.append(len(out) - 1)
                to_score.append(text)
        probs, errors = _safe_proba(clf, to_score)
        for k, p, err in zip(score_at, probs, errors):
            if err is not None:
                out[k]["error"] = err
            else:
                out[k]["label"] = LABELS[int(p.argmax())]
                out[k].update(zip(PROB_COLUMNS, map(float, p)))
    else:
        # documents: clf.analyze splits each article and labels every sentence (in one batched call)
        errors = [error or _text_problem(text) for _, text, _, error, *_ in items]
        analyses = iter(_safe_analyze(clf, [item[1] for item, err in zip(items, errors) if err is None]))
        for (row, text, ident, *_), error in zip(items, errors):
            analysis = next(analyses) if error is None else None
            if isinstance(analysis, str):
                error, analysis = analysis, None
            if analysis is None or not analysis.sentences:
                # a bad article, or one with no sentence (blank): one row, so the row is accounted for
                out.append({"row": row, "id": ident, "text": None if error else text, "error": error})
                continue
            for j, s in enumerate(analysis.sentences):
                rec = {"row": row, "id": ident, "sentence": j, "start": s.start, "end": s.end, "text": s.text,
                       "label": s.label, "source": s.source, "cue": s.cue, "error": None}
                if s.label is not None:
                    rec.update((f"p_{name}", float(s.probabilities[name])) for name in LABELS)
                out.append(rec)
    return pa.Table.from_pylist([{name: rec.get(name) for name in names} for rec in out], schema=schema)


def predict_columns(clf, texts) -> dict[str, list]:
    """Columns ``label``, ``p_<label>`` and ``error`` for any sequence of values (a pandas
    Series, a list from a Spark or Ray partition): the rules of ``predict_file`` (null label
    for blanks, an error message instead of an exception for non-strings), in memory.
    ``pandas.DataFrame(predict_columns(clf, df["text"]))`` lines up with ``df``'s rows."""
    values = [None if _is_missing(v) else v for v in list(texts)]
    table = _predict_chunk(clf, [(k, v, None, None) for k, v in enumerate(values)], "sentences",
                           _output_schema("sentences"))
    return {name: table.column(name).to_pylist() for name in ("label", *PROB_COLUMNS, "error")}


def _is_missing(value) -> bool:
    """None, or a float NaN (pandas' and Spark-to-pandas' missing value)."""
    return value is None or (isinstance(value, float) and value != value)


def predict_file(clf, input_path: str, output_path: str, text_column: str = "text", id_column: str | None = None,
                 shard: tuple[int, int] | None = None, batch_size: int = 1024, show_progress: bool = True,
                 mode: str = "sentences", group_by_doc: bool = False, doc_column: str = "doc",
                 index_column: str = "i") -> dict:
    """Label every row of ``input_path`` into the Parquet folder ``output_path`` (see the module
    docstring); rerunning after an interruption resumes. Returns a summary dict.

    ``group_by_doc=True`` (sentence rows only) reads each row with its document's neighbouring
    rows (``doc_column``/``index_column``; see :mod:`.groups`): the output keeps the rows in input
    order and the schema of sentence mode. The input is then held in memory, since a document's
    rows may lie anywhere in it."""
    from tqdm.auto import tqdm

    if mode not in ("sentences", "documents"):
        raise CorpusError(f"mode must be 'sentences' or 'documents', got {mode!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise CorpusError(f"batch_size must be a positive number of rows, got {batch_size!r}")
    shard = _check_shard(shard)
    i, n = shard or (0, 1)
    keys = _check_grouping(group_by_doc, mode, shard, doc_column, index_column)
    source = _Input(input_path, text_column, id_column, key_columns=keys)
    if group_by_doc and doc_column in source.missing_keys:
        raise CorpusError(f"{input_path}: no column {doc_column!r} to group the rows by document; "
                          "use --doc-column (or leave out --group-by-doc)")
    schema = _output_schema(mode, source.id_type if id_column else None)
    settings = {
        "format_version": FORMAT_VERSION, "mode": mode, "text_column": text_column, "id_column": id_column,
        "shard": list(shard) if shard else None, "input": _fingerprint(input_path), "input_format": source.format,
        "model": _model_identity(clf),
    }
    if group_by_doc:  # only then: folders of earlier runs keep their settings, and resume
        settings["group_by_doc"] = {"doc_column": doc_column, "index_column": index_column}
    say = (lambda msg: print(msg, file=sys.stderr)) if show_progress else (lambda msg: None)

    os.makedirs(output_path, exist_ok=True)
    with _locked(output_path):
        for name in os.listdir(output_path):  # temporary files of an interrupted write
            if name.startswith(".") and ".tmp-" in name:
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(output_path, name))
        state = _read_state(output_path)
        parts = _list_parts(output_path)
        if state is None:
            others = [x for x in os.listdir(output_path) if x != LOCK_FILE]
            if others:
                raise CorpusError(f"{output_path} is not empty and has no {STATE_FILE}: not a stancelib output "
                                  "folder (or one whose state was deleted); give a new or empty folder")
            state = {"settings": settings, "started": _now(), "complete": False}
            _write_json(os.path.join(output_path, STATE_FILE), state)
        else:
            diff = sorted(k for k in set(settings) | set(state.get("settings", {}))
                          if settings.get(k) != state.get("settings", {}).get(k))
            if diff:
                details = "; ".join(f"{k}: was {state['settings'].get(k)!r}, now {settings.get(k)!r}" for k in diff)
                raise CorpusError(f"{output_path} was started with other settings ({details}); rerun with the "
                                  "same input, model and options, or write to a new folder")
            if state.get("complete"):
                say(f"{output_path}: already complete ({state.get('output_rows')} rows in {state.get('parts')} parts)")
                return _summary(output_path, state, rows_this_run=0, resumed_after=None, seconds=0.0)

        infos = [_part_info(p) for p in parts]
        start_row = infos[-1]["next_row"] if infos else 0
        out_rows = sum(x["num_rows"] for x in infos)
        errors = sum(x.get("errors", 0) for x in infos)
        done_rows = sum(x.get("input_rows", 0) for x in infos)
        if parts:
            say(f"{output_path}: resuming after input row {start_row - 1} ({len(parts)} parts, {done_rows} rows done)")

        select = (lambda k: True) if n == 1 else (lambda k: k % n == i)
        total = len(range(i, source.total, n)) if source.total is not None else None
        t0 = time.time()
        rows_this_run = 0
        bar = tqdm(total=total, initial=done_rows, unit="row", desc=f"predict {i}/{n}" if shard else "predict",
                   disable=not show_progress, file=sys.stderr)

        if group_by_doc:
            from .groups import GroupedPredictor

            everything = list(source.rows(0, select))  # neighbours before start_row count too
            grouped = GroupedPredictor(clf, everything, index_column)
            rows_iter = (item for item in everything if item[0] >= start_row)
            predict_items = lambda items: grouped.chunk(items, schema)  # noqa: E731
        else:
            rows_iter = source.rows(start_row, select)
            predict_items = lambda items: _predict_chunk(clf, items, mode, schema)  # noqa: E731

        def flush(items):
            nonlocal out_rows, errors, done_rows, rows_this_run
            table = predict_items(items)
            n_err = sum(e is not None for e in table.column("error").to_pylist())
            info = {"first_row": items[0][0], "last_row": items[-1][0], "next_row": items[-1][0] + 1,
                    "input_rows": len(items), "errors": n_err}
            table = table.replace_schema_metadata({_META_KEY: json.dumps(info).encode()})
            _write_parquet(os.path.join(output_path, _part_name(len(parts))), table)
            parts.append(_part_name(len(parts)))
            out_rows += table.num_rows
            errors += n_err
            done_rows += len(items)
            rows_this_run += len(items)
            state.update(parts=len(parts), next_row=info["next_row"], input_rows_done=done_rows,
                         output_rows=out_rows, errors=errors, updated=_now())
            _write_json(os.path.join(output_path, STATE_FILE), state)
            bar.update(len(items))

        try:
            items: list = []
            for item in rows_iter:
                items.append(item)
                if len(items) >= batch_size:
                    flush(items)
                    items = []
            if items:
                flush(items)
        finally:
            bar.close()
        n_input = max(source.seen, start_row)
        if not parts:  # nothing selected: an empty part keeps the schema for readers and merge
            empty = schema.empty_table().replace_schema_metadata({_META_KEY: json.dumps(
                {"first_row": None, "last_row": None, "next_row": n_input, "input_rows": 0, "errors": 0}).encode()})
            _write_parquet(os.path.join(output_path, _part_name(0)), empty)
            parts.append(_part_name(0))
        state.update(parts=len(parts), next_row=n_input, input_rows_done=done_rows, output_rows=out_rows,
                     errors=errors, n_input_rows=n_input, complete=True, finished=_now())
        _write_json(os.path.join(output_path, STATE_FILE), state)
        summary = _summary(output_path, state, rows_this_run, start_row if start_row else None, time.time() - t0)
        say(f"{output_path}: done: {done_rows} input rows -> {out_rows} output rows ({errors} with errors)")
        return summary


def _check_grouping(group_by_doc, mode, shard, doc_column, index_column) -> tuple[str, ...]:
    """The key columns to read for ``group_by_doc`` (``()`` without it), or a clear refusal."""
    if not group_by_doc:
        return ()
    if mode != "sentences":
        raise CorpusError("group_by_doc regroups sentence rows; with mode='documents' (--documents) each row "
                          "is already a whole article")
    if shard is not None:
        raise CorpusError("group_by_doc with a shard: a document's rows would be split over shards and lose "
                          "their neighbours; run one process, or use --engine ray for several workers")
    if not doc_column or not index_column:
        raise CorpusError("group_by_doc needs a doc column and an index column (default 'doc' and 'i')")
    return (doc_column, index_column)


def _summary(folder, state, rows_this_run, resumed_after, seconds) -> dict:
    return {"output": folder, "complete": bool(state.get("complete")), "parts": state.get("parts", 0),
            "input_rows": state.get("n_input_rows"), "rows_done": state.get("input_rows_done", 0),
            "output_rows": state.get("output_rows", 0), "errors": state.get("errors", 0),
            "rows_this_run": rows_this_run, "resumed_at_row": resumed_after, "seconds": round(seconds, 3)}


# ---- datasets ------------------------------------------------------------------

def predict_dataset(clf, ds, text_column: str = "text", batch_size: int = 64, label_column: str = "label"):
    """``ds`` with a ``label`` column and one ``p_<label>`` column per label, via
    ``ds.map(batched=True)``; works on ``Dataset``, ``IterableDataset`` (lazily, so with
    ``streaming=True`` too) and their ``*Dict`` forms, and composes with ``ds.shard``.

    A blank or null text gets label ``None`` and null probabilities. An existing column
    of the same name is an error rather than overwritten (a gold ``label`` column!):
    pass ``label_column="predicted"`` then."""
    import datasets

    if isinstance(ds, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        return type(ds)({name: predict_dataset(clf, split, text_column, batch_size, label_column)
                         for name, split in ds.items()})
    new = [label_column, *PROB_COLUMNS]
    names = ds.column_names
    if names is not None:
        if text_column not in names:
            raise CorpusError(f"the dataset has no column {text_column!r} (columns: {', '.join(names)})")
        clash = [c for c in new if c in names]
        if clash:
            raise CorpusError(f"the dataset already has column(s) {', '.join(clash)}; pass another "
                              "label_column (e.g. 'predicted') or remove them first")
    features = ds.features
    if features is not None:
        feat = features[text_column]
        if not (isinstance(feat, datasets.Value) and feat.dtype in ("string", "large_string")):
            raise CorpusError(f"column {text_column!r} holds {feat}, not text")
        features = datasets.Features({**features, label_column: datasets.Value("string"),
                                      **{c: datasets.Value("float32") for c in PROB_COLUMNS}})
    order = [clf.labels.index(name) for name in LABELS]

    def label_batch(batch):
        texts = batch[text_column]
        live = [k for k, t in enumerate(texts) if isinstance(t, str) and has_text(t)]
        labels = [None] * len(texts)
        probs = {c: [None] * len(texts) for c in PROB_COLUMNS}
        if live:
            p = np.asarray(clf.predict_proba([texts[k] for k in live], show_progress=False))[:, order]
            for k, row in zip(live, p):
                labels[k] = LABELS[int(row.argmax())]
                for c, v in zip(PROB_COLUMNS, row):
                    probs[c][k] = float(v)
        return {label_column: labels, **probs}

    kwargs = dict(batched=True, batch_size=batch_size, features=features)
    if isinstance(ds, datasets.Dataset):
        # a fresh fingerprint: hashing the function would pickle the whole model, and a
        # reused cache file could hold another model's predictions
        kwargs.update(new_fingerprint=uuid.uuid4().hex, load_from_cache_file=False, desc="predict")
    return ds.map(label_batch, **kwargs)
