"""Corpus prediction on Ray Data: ``predict_ray`` (``stancelib predict --input ... --engine ray``).

The driver reads and checks the input with the reader of ``predict --input`` (one reader, one
set of error rows) and numbers its rows; Ray Data spreads the blocks over an actor pool in which
each actor loads the model once (``map_batches`` with a callable class); the driver writes the
blocks that come back as Parquet parts of an output folder that ``stancelib merge`` accepts.

- Rows keep their number (``row``) and ``id``; the columns are those of ``predict --input``
  (``_output_schema``), and the labels come from the same functions (``_predict_chunk``,
  ``document_records``), so the output equals a single-process run row for row.
- ``group_by_doc``: the driver packs each document's rows (:mod:`.groups`) into one Ray row, so
  that no batch can split a document, whatever Ray does with block sizes.
- Faults: a dead actor is restarted by Ray and its tasks retried (Ray Data's defaults,
  ``max_restarts=-1``, ``max_task_retries=-1``). The driver marks each input row as it arrives,
  drops any row it already has (a retried task whose first result did arrive), and fails if a
  row is missing at the end: the folder holds every input row exactly once or is not complete.
- No resume: a run that dies leaves a folder without a complete ``_state.json``; start again in
  a new folder (Ray retries make a rerun rare).
- Only the Ray pipeline runs on Ray (no read or shuffle tasks), so the actors may use every CPU:
  ``actors * cpus_per_actor`` CPUs must be free, or Ray waits for them.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from .folder import (
    FORMAT_VERSION, STATE_FILE, CorpusError, _META_KEY, _model_identity, _now, _part_name, _write_json,
    _write_parquet,
)
from .predict import _check_grouping, _output_schema, _predict_chunk
from .reader import _Input, _fingerprint, _text_problem

_REPORTED_ERRORS = 20  # error rows named in the summary and on stderr; all of them are in the output


def _import_ray():
    try:
        import ray
        import ray.data
    except ImportError as e:
        raise CorpusError("--engine ray needs Ray: pip install 'stancelib[ray]'") from e
    return ray


class _Labeler:
    """One Ray actor: loads the model once, then labels batches (``pyarrow.Table`` in and out)."""

    def __init__(self, model, mode: str, grouped: bool, schema, model_batch_size: int, threads: int):
        if threads:
            try:
                import torch

                torch.set_num_threads(threads)  # the actor's share of the node, not all its cores
            except ImportError:  # an ONNX-only environment
                pass
        if callable(model):  # a loader function: a custom device, backend or wrapper
            self.clf = model()
        else:
            from ..modeling import StanceClassifier

            self.clf = StanceClassifier.from_pretrained(model, batch_size=model_batch_size, num_threads=threads or None)
        self.mode, self.grouped, self.schema = mode, grouped, schema

    def __call__(self, batch):
        import pyarrow as pa

        if not self.grouped:
            ids = batch.column("id").to_pylist() if "id" in batch.schema.names else [None] * batch.num_rows
            items = list(zip(batch.column("row").to_pylist(), batch.column("text").to_pylist(), ids,
                             batch.column("error").to_pylist()))
            return _predict_chunk(self.clf, items, self.mode, self.schema)
        from .groups import document_records

        docs = []
        for rows, texts, ids, errors in zip(*(batch.column(c).to_pylist() for c in ("rows", "texts", "ids", "errors"))):
            docs.append([(r, t, i, e) for r, t, i, e in zip(rows, texts, ids or [None] * len(rows), errors)])
        records = document_records(self.clf, docs)
        out = [records[r] for r in sorted(records)]
        return pa.Table.from_pylist([{n: rec.get(n) for n in self.schema.names} for rec in out], schema=self.schema)


# ---- the driver's side -----------------------------------------------------------------

def _dataset_items(ds, text_column, id_column, key_columns):
    """``(row, text, id, error, keys)`` for the rows of a Ray Dataset, numbered in its order."""
    import ray.data

    names = ds.schema().names
    if text_column not in names or (id_column and id_column not in names):
        missing = [c for c in (text_column, id_column) if c and c not in names]
        raise CorpusError(f"the dataset has no column {', '.join(map(repr, missing))} (columns: {', '.join(names)})")
    ctx = ray.data.DataContext.get_current()
    keep, ctx.execution_options.preserve_order = ctx.execution_options.preserve_order, True
    try:
        k = 0
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            cols = {c: batch.column(c).to_pylist() for c in {text_column, id_column, *key_columns} if c and c in names}
            for j in range(batch.num_rows):
                keys = tuple(cols[c][j] if c in cols else None for c in key_columns)
                yield k, cols[text_column][j], (cols[id_column][j] if id_column else None), None, keys
                k += 1
    finally:
        ctx.execution_options.preserve_order = keep


def _id_type(ds, id_column):
    return ds.schema().base_schema.field(id_column).type if id_column else None


def _input_tables(items, grouped: bool, id_type, block_rows: int, index_column: str):
    """Arrow blocks for Ray: sentence rows (``row, id, text, error``) or, grouped, one row per
    document (``rows, ids, texts, errors`` lists in reading order). Returns ``(tables, n_rows)``."""
    import pyarrow as pa

    fields = [pa.field("row", pa.int64()), pa.field("text", pa.string()), pa.field("error", pa.string())]
    if id_type is not None:
        fields.insert(1, pa.field("id", id_type))
    sentence_schema = pa.schema(fields)
    if not grouped:
        recs = [{"row": r, "id": i, "text": None if e else t, "error": e} for r, t, i, e, *_ in items]
        return [pa.Table.from_pylist(recs[a:a + block_rows], schema=sentence_schema)
                for a in range(0, len(recs), block_rows)] or [sentence_schema.empty_table()], len(recs)
    from .groups import group_documents

    docs, bad_index = group_documents(items, index_column)
    doc_schema = pa.schema([pa.field("rows", pa.list_(pa.int64())), pa.field("texts", pa.list_(pa.string())),
                            pa.field("ids", pa.list_(id_type if id_type is not None else pa.null())),
                            pa.field("errors", pa.list_(pa.string()))])
    recs = []
    for doc in docs:
        errors = [e or bad_index.get(r) for r, t, i, e, *_ in doc]
        recs.append({"rows": [it[0] for it in doc], "texts": [None if e else it[1] for it, e in zip(doc, errors)],
                     "ids": [it[2] for it in doc], "errors": errors})
    # about block_rows sentence rows per block, whole documents only
    tables, block, size = [], [], 0
    for rec in recs:
        block.append(rec)
        size += len(rec["rows"])
        if size >= block_rows:
            tables.append(pa.Table.from_pylist(block, schema=doc_schema))
            block, size = [], 0
    if block or not tables:
        tables.append(pa.Table.from_pylist(block, schema=doc_schema))
    return tables, len(items)


def _checked_items(items, where: str, problems: list):
    """Validate texts on the driver (the rules of ``predict --input``) and note each bad row."""
    for row, text, ident, error, keys in items:
        error = error or _text_problem(text)
        if error:
            problems.append(f"{where}: row {row}: {error}")
        yield row, (None if error else text), ident, error, keys


def _start_ray(ray, address, show_progress):
    """``(started_here, seconds)``: join ``address`` or a running Ray, else start a local one."""
    t0 = time.time()
    if ray.is_initialized():
        return False, 0.0
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    if address:
        ray.init(address=address, log_to_driver=show_progress)
    else:  # a local Ray on this machine's CPUs; no dashboard (no extra ports, no extra process)
        ray.init(include_dashboard=False, log_to_driver=show_progress)
    return True, time.time() - t0


def predict_ray(data, model, output: str, *, mode: str = "sentences", text_column: str = "text",
                id_column: str | None = None, group_by_doc: bool = False, doc_column: str = "doc",
                index_column: str = "i", actors: int = 2, batch_size: int = 256, cpus_per_actor: float = 1.0,
                model_batch_size: int = 64, address: str | None = None, show_progress: bool = True) -> dict:
    """Label ``data`` (an input path as for ``predict_file``, or a ``ray.data.Dataset``) on Ray
    actors that each load ``model`` (a model folder every node can read, or a function that
    returns a classifier) once; write the Parquet folder ``output`` (new or empty).

    ``batch_size`` is the number of input rows per actor call (articles with ``mode="documents"``;
    with ``group_by_doc``, about that many sentence rows in whole documents); ``model_batch_size``
    the sentences per forward pass. Returns a summary
    with the timings split: ``ray_start_s`` (``ray.init``), ``read_s`` (the driver reads and
    ships the input), ``run_s`` (actors start, load the model and label; the driver writes)."""
    import pyarrow as pa

    if mode not in ("sentences", "documents"):
        raise CorpusError(f"mode must be 'sentences' or 'documents', got {mode!r}")
    for name, value in (("actors", actors), ("batch_size", batch_size), ("model_batch_size", model_batch_size)):
        if not isinstance(value, int) or value < 1:
            raise CorpusError(f"{name} must be a positive integer, got {value!r}")
    if not isinstance(model, (str, os.PathLike)) and not callable(model):
        raise CorpusError(f"model must be a model folder or a function returning a classifier, got {model!r}")
    local_model = isinstance(model, (str, os.PathLike)) and os.path.isdir(model)
    if isinstance(model, (str, os.PathLike)):
        model = os.fspath(model)
        # on a local Ray the actors see this file system; on a cluster only the nodes must have it
        if not local_model and not address:
            raise CorpusError(f"model folder not found: {model}")
    keys = _check_grouping(group_by_doc, mode, None, doc_column, index_column)
    os.makedirs(output, exist_ok=True)
    if os.listdir(output):
        raise CorpusError(f"{output} is not empty: a Ray run writes a new folder (it does not resume)")
    ray = _import_ray()
    say = (lambda msg: print(msg, file=sys.stderr)) if show_progress else (lambda msg: None)
    started, ray_start_s = _start_ray(ray, address, show_progress)
    ctx = ray.data.DataContext.get_current()
    progress_bars = ctx.enable_progress_bars  # the caller's setting, put back at the end
    try:
        t0 = time.time()
        problems: list[str] = []
        if isinstance(data, (str, os.PathLike)):
            data = os.fspath(data)
            source = _Input(data, text_column, id_column, key_columns=keys)
            if group_by_doc and doc_column in source.missing_keys:
                raise CorpusError(f"{data}: no column {doc_column!r} to group the rows by document; use --doc-column")
            items, id_type, where = source.rows(0, lambda k: True), source.id_type if id_column else None, data
            input_info = {"input": _fingerprint(data), "input_format": source.format}
        else:
            items, where = _dataset_items(data, text_column, id_column, keys), "dataset"
            id_type = _id_type(data, id_column)
            input_info = {"input": {"name": "ray.data.Dataset"}, "input_format": "ray"}
        tables, n_rows = _input_tables(list(_checked_items(items, where, problems)), bool(keys), id_type,
                                       batch_size, index_column)
        ctx.enable_progress_bars = show_progress
        ds = ray.data.from_arrow(tables)
        read_s = time.time() - t0
        for line in problems[:_REPORTED_ERRORS]:
            say(line)
        if len(problems) > _REPORTED_ERRORS:
            say(f"... {len(problems) - _REPORTED_ERRORS} more bad rows (see the error column)")

        schema = _output_schema(mode, id_type)
        threads = max(1, int(cpus_per_actor)) if cpus_per_actor >= 1 else 1
        labelled = ds.map_batches(
            _Labeler, batch_size=None if keys else batch_size, batch_format="pyarrow",  # grouped: a block of whole docs
            zero_copy_batch=True, compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=cpus_per_actor,
            fn_constructor_kwargs={"model": model, "mode": mode, "grouped": bool(keys), "schema": schema,
                                   "model_batch_size": model_batch_size, "threads": threads})
        t1 = time.time()
        seen = np.zeros(n_rows, dtype=bool)
        parts = out_rows = errors = dropped = 0
        first_block_s, first_block_rows = None, 0
        for block in labelled.iter_batches(batch_format="pyarrow", batch_size=None):
            if first_block_s is None:
                first_block_s = time.time() - t1
            rows = block.column("row").to_numpy()
            again = seen[rows]
            if again.any():  # a retried task whose earlier result did arrive: keep the first copy
                dropped += len(np.unique(rows[again]))
                block = block.filter(pa.array(~again))
                rows = rows[~again]
            if block.num_rows == 0:
                continue
            seen[rows] = True
            if parts == 0:
                first_block_rows = int(len(np.unique(rows)))
            n_err = block.num_rows - block.column("error").null_count
            info = {"first_row": int(rows.min()), "last_row": int(rows.max()), "input_rows": int(len(np.unique(rows))),
                    "errors": n_err, "engine": "ray"}
            _write_parquet(os.path.join(output, _part_name(parts)), block.cast(schema).replace_schema_metadata(
                {_META_KEY: json.dumps(info).encode()}))
            parts += 1
            out_rows += block.num_rows
            errors += n_err
        if not seen.all():
            missing = np.flatnonzero(~seen)
            raise CorpusError(f"{output}: Ray returned no result for {len(missing)} input rows (first: "
                              f"{', '.join(map(str, missing[:10]))}); the folder is incomplete, run again")
        if parts == 0:  # an empty input: an empty part keeps the schema for readers and merge
            _write_parquet(os.path.join(output, _part_name(0)), schema.empty_table())
            parts = 1
        run_s = time.time() - t1
        settings = {"format_version": FORMAT_VERSION, "mode": mode, "text_column": text_column,
                    "id_column": id_column, "shard": None, **input_info,
                    "model": _model_identity(_ModelInfo(model)) if local_model else model if isinstance(model, str) else None}
        if keys:
            settings["group_by_doc"] = {"doc_column": doc_column, "index_column": index_column}
        state = {"settings": settings, "engine": "ray", "complete": True, "parts": parts, "next_row": n_rows,
                 "n_input_rows": n_rows, "input_rows_done": n_rows, "output_rows": out_rows, "errors": errors,
                 "finished": _now()}
        _write_json(os.path.join(output, STATE_FILE), state)
        say(f"{output}: done on Ray: {n_rows} input rows -> {out_rows} output rows ({errors} with errors)")
        return {"output": output, "complete": True, "parts": parts, "input_rows": n_rows, "rows_done": n_rows,
                "output_rows": out_rows, "errors": errors, "error_rows": problems[:_REPORTED_ERRORS],
                "duplicates_dropped": dropped, "actors": actors, "ray_start_s": round(ray_start_s, 3),
                "read_s": round(read_s, 3), "first_block_s": round(first_block_s or 0.0, 3),
                "first_block_rows": first_block_rows,
                "run_s": round(run_s, 3), "rows_per_s": round(n_rows / run_s, 1) if run_s else None}
    finally:
        ctx.enable_progress_bars = progress_bars
        if started:
            ray.shutdown()


class _ModelInfo:
    """The identity fields of a model folder (labels, run name) without loading its weights."""

    def __init__(self, path):
        from ..labels import LABELS
        from ..modeling import read_metadata

        meta = read_metadata(path)
        self.metadata, self.labels = meta, tuple(LABELS)
        self.max_length = meta.get("max_length")
