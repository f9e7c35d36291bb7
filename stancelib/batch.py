"""Label a whole corpus: chunked, resumable, shardable prediction to Parquet.

``predict_file(clf, INPUT, OUT)`` reads JSONL (``.jsonl``, ``.ndjson``, ``.json``),
CSV/TSV (each optionally ``.gz``), Parquet, or a folder written by
``datasets.Dataset.save_to_disk``, and writes Parquet part files to the folder
``OUT``. ``merge_outputs([OUT, ...], FILE)`` joins one or more such folders (the
shards of one corpus) into a single Parquet file sorted by row, after checking
that every input row is there exactly once.

Rows
----
Every input record gets a row index, its 0-based position in the input (JSONL:
the n-th non-blank line; CSV: the n-th record after the header; Parquet and
``datasets``: the table row). ``shard=(i, n)`` takes the rows whose index
``% n == i``, so ``n`` workers given ``0/n`` ... ``n-1/n`` cover the input exactly once,
whatever the order they run in.

Output columns
--------------
``mode="sentences"`` (one input row = one sentence): ``row``, ``id`` (only with
``id_column``), ``text``, ``label``, ``p_neutral_report``, ``p_attributed_statement``,
``p_unattributed_claim``, ``error``.
``mode="documents"`` (one input row = one article): each chunk of articles goes through
``StanceClassifier.analyze`` (one batched call), and each sentence becomes an output row:
``row``, ``id``, ``sentence`` (index of the sentence in its article), ``start``, ``end``
(character offsets into the article), ``text`` (the sentence), ``label``, ``p_*``
(``analyze`` rounds them to 4 decimals), ``source`` and ``cue`` (``{start, end, text}``
with offsets into the article, when the model has a span head and the sentence is an
attributed statement; else null), ``error``. An article with no sentence (blank) or a
bad article gives one row with ``sentence`` null, so every input row is still accounted for.

A blank text has label null and null probabilities (``StanceClassifier`` gives
NaN; Parquet null is what SQL engines, Spark and pandas treat as missing) and no
error. A bad row never stops the run: a missing or non-string text, a line that
is not JSON, a CSV record with the wrong number of fields, or text that is not
valid UTF-8 gets label null and a message in ``error``. The ``id`` column keeps
its type for Parquet and ``datasets`` input and is a string for JSONL and CSV
(JSON values other than strings are written as JSON text).

Resume
------
``OUT`` holds ``_state.json`` (settings and progress), ``part-00000.parquet``,
``part-00001.parquet``, ... and a ``_lock`` file. Each part holds the predictions of
``batch_size`` consecutive selected input rows; it is written to a hidden temporary
file, flushed to disk and renamed into place, so a part file either exists
complete or not at all. Each part records, in its Parquet metadata, the input row
after its last one. A rerun of the same command on the same ``OUT`` takes the parts
as the truth: it deletes leftover temporary files, checks that the settings match
``_state.json`` (the input's name, size and a hash of its first and last MiB; the columns,
shard, mode and model), and continues after the last part, so a run killed at any point,
however often, ends with every selected row exactly once. Rows per part may change
between runs; the model's device may too (predictions then differ by float noise only).
A finished folder is left as it is. The folder is a Parquet dataset in its own right
(readers skip ``_`` and ``.`` files): ``pandas.read_parquet(OUT)`` reads it;
``merge_outputs`` gives one sorted file.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import gzip
import hashlib
import json
import os
import re
import sys
import time
import uuid

import numpy as np

from .labels import LABELS

STATE_FILE = "_state.json"
LOCK_FILE = "_lock"
FORMAT_VERSION = 1
PROB_COLUMNS = tuple(f"p_{name}" for name in LABELS)
_PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")
_META_KEY = b"stancelib"
_READ_BLOCK = 8192  # rows per read from Parquet / datasets input
_PEEK_ROWS = 100  # JSONL records looked at to check the column names before a run


class CorpusError(ValueError):
    """Bad settings, an input that cannot be read, or an output that fails its checks."""


def _part_name(k: int) -> str:
    return f"part-{k:05d}.parquet"


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# ---- atomic writes -----------------------------------------------------------

def _replace(src: str, dst: str) -> None:
    """``os.replace``; a separate name so that tests can simulate a crash at each rename."""
    os.replace(src, dst)


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: str, write) -> None:
    """Call ``write(binary_file)`` on a hidden temporary file beside ``path``, flush it to
    disk and rename it to ``path``: readers see the old file or the whole new one."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


def _write_json(path: str, obj: dict) -> None:
    _atomic_write(path, lambda f: f.write(json.dumps(obj, indent=2, sort_keys=True).encode("utf-8")))


def _write_parquet(path: str, table) -> None:
    import pyarrow.parquet as pq

    _atomic_write(path, lambda f: pq.write_table(table, f))


# ---- reading the input -------------------------------------------------------

def _text_problem(text) -> str | None:
    """Why ``text`` cannot be classified (``None`` if it can; a blank string can)."""
    if text is None:
        return "text is missing (null)"
    if not isinstance(text, str):
        return f"text is {type(text).__name__}, not a string"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text is not valid UTF-8"
    return None


def _clean_str(value: str) -> str:
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


def _id_text(value) -> str | None:
    """An id from JSONL/CSV as a string (JSON text for non-strings), so every part has one type."""
    if value is None:
        return None
    if isinstance(value, str):
        return _clean_str(value)
    return _clean_str(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _detect_format(path: str) -> tuple[str, bool]:
    """``(format, gzipped)`` from the path: jsonl, csv, tsv, parquet or datasets."""
    if os.path.isdir(path):
        if os.path.isfile(os.path.join(path, "dataset_dict.json")):
            splits = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
            raise CorpusError(f"{path} is a saved DatasetDict; give one split's folder "
                              f"(one of: {', '.join(os.path.join(path, s) for s in splits)})")
        if os.path.isfile(os.path.join(path, "state.json")) and os.path.isfile(os.path.join(path, "dataset_info.json")):
            return "datasets", False
        raise CorpusError(f"{path} is a folder but not one written by datasets' save_to_disk "
                          "(no state.json / dataset_info.json)")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"input not found: {path}")
    name = path.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    for suffixes, fmt in (((".jsonl", ".ndjson", ".json"), "jsonl"), ((".csv",), "csv"), ((".tsv",), "tsv"),
                          ((".parquet", ".pq"), "parquet")):
        if name.endswith(suffixes):
            if gz and fmt == "parquet":
                raise CorpusError(f"{path}: a gzipped Parquet file; Parquet compresses itself, unzip it")
            return fmt, gz
    raise CorpusError(f"{path}: unknown input format (expected .jsonl, .csv, .tsv (optionally .gz), "
                      ".parquet, or a datasets folder)")


def _sample_sha256(path: str, block: int = 1 << 20) -> str:
    """SHA-256 of the first and last MiB of a file: cheap, yet it sees most edits."""
    h = hashlib.sha256()
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        h.update(f.read(block))
        if size > block:
            f.seek(max(block, size - block))
            h.update(f.read())
    return h.hexdigest()


def _fingerprint(path: str) -> dict:
    """Name, size and a sample hash of the input, to refuse resuming over (or merging shards of)
    a changed input. No modification time: a copy staged to a node's local disk is the same input."""
    if os.path.isdir(path):
        files = sorted(n for n in os.listdir(path) if os.path.isfile(os.path.join(path, n)))
        h = hashlib.sha256()
        size = 0
        for n in files:
            full = os.path.join(path, n)
            size += os.path.getsize(full)
            h.update(f"{n}\0{os.path.getsize(full)}\0{_sample_sha256(full)}\n".encode())
        return {"name": os.path.basename(os.path.normpath(path)), "size": size, "sample_sha256": h.hexdigest()}
    return {"name": os.path.basename(path), "size": os.path.getsize(path), "sample_sha256": _sample_sha256(path)}


class _Input:
    """One input file or folder: checks the columns up front, then yields
    ``(row, text, id, error)`` for the selected rows from a start row on.
    ``seen`` counts all rows passed so far (the input's row count once exhausted)."""

    def __init__(self, path: str, text_column: str = "text", id_column: str | None = None):
        self.path, self.text_column, self.id_column = path, text_column, id_column
        self.format, self.gzipped = _detect_format(path)
        self.total: int | None = None
        self.id_type = None  # arrow type of the id column (string for JSONL/CSV)
        self.seen = 0
        getattr(self, f"_check_{'csv' if self.format == 'tsv' else self.format}")()

    # -- column checks
    def _columns_error(self, have) -> CorpusError:
        wanted = [c for c in (self.text_column, self.id_column) if c]
        missing = [c for c in wanted if c not in have]
        return CorpusError(f"{self.path}: no column {', '.join(repr(c) for c in missing)} "
                           f"(columns: {', '.join(map(str, have)) or 'none'}); use --text-column / --id-column")

    def _check_arrow_schema(self, schema) -> None:
        import pyarrow as pa

        if self.text_column not in schema.names or (self.id_column and self.id_column not in schema.names):
            raise self._columns_error(schema.names)
        ttype = schema.field(self.text_column).type
        if not (pa.types.is_string(ttype) or pa.types.is_large_string(ttype)
                or getattr(pa.types, "is_string_view", lambda t: False)(ttype)):
            raise CorpusError(f"{self.path}: column {self.text_column!r} holds {ttype}, not text")
        if self.id_column:
            self.id_type = schema.field(self.id_column).type

    def _check_parquet(self) -> None:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.path)
        self._check_arrow_schema(pf.schema_arrow)
        self.total = pf.metadata.num_rows

    def _check_datasets(self) -> None:
        import datasets

        ds = datasets.load_from_disk(self.path)
        self._check_arrow_schema(ds.features.arrow_schema)
        self.total = len(ds)

    def _check_jsonl(self) -> None:
        import pyarrow as pa

        self.id_type = pa.string()
        seen_keys: set = set()
        with self._open_binary() as f:
            n = 0
            for line in f:
                if not line.strip():
                    continue
                n += 1
                with contextlib.suppress(ValueError):
                    obj = json.loads(line)
                    if isinstance(obj, dict):
                        seen_keys.update(obj)
                        if self.text_column in obj and (not self.id_column or self.id_column in obj):
                            return
                if n >= _PEEK_ROWS:
                    break
        if n == 0:
            return  # an empty input is fine: it has no rows
        raise CorpusError(f"{self.path}: none of the first {n} records has the field(s) "
                          f"{', '.join(repr(c) for c in (self.text_column, self.id_column) if c)} "
                          f"(fields seen: {', '.join(sorted(map(str, seen_keys))) or 'none'}); "
                          "use --text-column / --id-column")

    def _check_csv(self) -> None:
        import pyarrow as pa

        self.id_type = pa.string()
        with self._open_text() as f:
            header = next(csv.reader(f, delimiter=self._delimiter), None)
        if header is None:
            raise CorpusError(f"{self.path}: empty CSV file (no header)")
        if self.text_column not in header or (self.id_column and self.id_column not in header):
            raise self._columns_error(header)

    # -- opening
    @property
    def _delimiter(self) -> str:
        return "\t" if self.format == "tsv" else ","

    def _open_binary(self):
        return gzip.open(self.path, "rb") if self.gzipped else open(self.path, "rb")

    def _open_text(self):
        # surrogateescape: a stray invalid byte becomes a bad row, not a crash of the whole file
        if self.gzipped:
            return gzip.open(self.path, "rt", encoding="utf-8-sig", errors="surrogateescape", newline="")
        return open(self.path, encoding="utf-8-sig", errors="surrogateescape", newline="")

    # -- rows
    def rows(self, start: int, select):
        """Yield ``(row, text, id, error)`` for rows ``>= start`` for which ``select(row)``."""
        reader = {"jsonl": self._jsonl_rows, "csv": self._csv_rows, "tsv": self._csv_rows,
                  "parquet": self._parquet_rows, "datasets": self._datasets_rows}[self.format]
        try:
            yield from reader(start, select)
        except (OSError, EOFError, UnicodeError) as e:
            raise CorpusError(f"{self.path}: cannot read the input after row {self.seen}: {type(e).__name__}: {e}") from e

    def _jsonl_rows(self, start, select):
        with self._open_binary() as f:
            k = -1
            for line in f:
                if not line.strip():
                    continue
                k += 1
                self.seen = k + 1
                if k < start or not select(k):
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
                    yield k, None, None, f"invalid JSON: {e}"
                    continue
                if not isinstance(obj, dict):
                    yield k, None, None, f"record is a JSON {type(obj).__name__}, not an object"
                    continue
                ident = _id_text(obj.get(self.id_column)) if self.id_column else None
                if self.text_column not in obj:
                    yield k, None, ident, f"no {self.text_column!r} field"
                    continue
                yield k, obj[self.text_column], ident, None

    def _csv_rows(self, start, select):
        limit = csv.field_size_limit()
        csv.field_size_limit(max(limit, 2**31 - 1))  # whole articles can exceed the 128 KiB default
        with self._open_text() as f:
            reader = csv.reader(f, delimiter=self._delimiter)
            header = next(reader, None) or []
            ti = header.index(self.text_column)
            ii = header.index(self.id_column) if self.id_column else None
            k = -1
            while True:
                try:
                    rec = next(reader)
                except StopIteration:
                    break
                except csv.Error as e:
                    k += 1
                    self.seen = k + 1
                    if k >= start and select(k):
                        yield k, None, None, f"CSV error near line {reader.line_num}: {e}"
                    continue
                if not rec:
                    continue  # a blank line is no record
                k += 1
                self.seen = k + 1
                if k < start or not select(k):
                    continue
                if len(rec) != len(header):  # no field of it can be trusted, the id neither
                    yield k, None, None, (f"CSV record near line {reader.line_num} has {len(rec)} fields, "
                                          f"the header {len(header)} (unquoted delimiter in the text?)")
                    continue
                yield k, rec[ti], (_id_text(rec[ii]) if ii is not None else None), None

    def _arrow_rows(self, blocks, base, start, select):
        for texts, ids in blocks:
            for j, text in enumerate(texts):
                k = base + j
                self.seen = k + 1
                if k >= start and select(k):
                    yield k, text, (ids[j] if ids is not None else None), None
            base += len(texts)

    def _parquet_rows(self, start, select):
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.path)
        counts = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
        g0, base = 0, 0
        while g0 < len(counts) and base + counts[g0] <= start:  # skip whole row groups before the start row
            base += counts[g0]
            g0 += 1
        self.seen = base
        if g0 == len(counts):
            return
        columns = [self.text_column] + ([self.id_column] if self.id_column else [])

        def blocks():
            for batch in pf.iter_batches(batch_size=_READ_BLOCK, row_groups=list(range(g0, len(counts))), columns=columns):
                yield (batch.column(self.text_column).to_pylist(),
                       batch.column(self.id_column).to_pylist() if self.id_column else None)

        yield from self._arrow_rows(blocks(), base, start, select)

    def _datasets_rows(self, start, select):
        import datasets

        ds = datasets.load_from_disk(self.path)
        ds = ds.select_columns([self.text_column] + ([self.id_column] if self.id_column else []))
        first = start - start % _READ_BLOCK
        self.seen = min(first, len(ds))

        def blocks():
            for a in range(first, len(ds), _READ_BLOCK):
                chunk = ds[a : a + _READ_BLOCK]
                yield chunk[self.text_column], (chunk[self.id_column] if self.id_column else None)

        yield from self._arrow_rows(blocks(), first, start, select)


# ---- prediction of one chunk ---------------------------------------------------

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
    """Output table for ``items`` = ``[(row, text, id, error), ...]``."""
    import pyarrow as pa

    names = schema.names
    out: list[dict] = []
    if mode == "sentences":
        score_at, to_score = [], []
        for row, text, ident, error in items:
            error = error or _text_problem(text)
            out.append({"row": row, "id": ident, "text": None if error else text, "error": error})
            if error is None and text.strip():
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
        errors = [error or _text_problem(text) for _, text, _, error in items]
        analyses = iter(_safe_analyze(clf, [text for (_, text, _, _), err in zip(items, errors) if err is None]))
        for (row, text, ident, _), error in zip(items, errors):
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


# ---- the output folder ---------------------------------------------------------

@contextlib.contextmanager
def _locked(folder: str):
    """Hold an exclusive lock on ``folder/_lock`` (two writers on one folder would corrupt it)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    fd = os.open(os.path.join(folder, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CorpusError(f"{folder} is being written by another process (it holds {LOCK_FILE}); "
                              "give each worker its own output folder") from None
        except OSError:
            pass  # a file system without locks (some NFS setups): go on unlocked
        yield
    finally:
        os.close(fd)  # releases the lock


def _list_parts(folder: str) -> list[str]:
    """The part files of ``folder`` in order; raise if numbers are missing."""
    found = sorted((int(m.group(1)), name) for name in os.listdir(folder) if (m := _PART_RE.match(name)))
    for expected, (k, name) in enumerate(found):
        if k != expected:
            raise CorpusError(f"{folder}: part files are not numbered 0, 1, 2, ...: {_part_name(expected)} is "
                              f"missing but {name} exists; the folder was changed by hand, start a new one")
    return [os.path.join(folder, name) for _, name in found]


def _part_info(path: str) -> dict:
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    info = json.loads((meta.metadata or {}).get(_META_KEY, b"{}"))
    info["num_rows"] = meta.num_rows
    return info


def _read_state(folder: str) -> dict | None:
    path = os.path.join(folder, STATE_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _model_identity(clf) -> dict:
    meta = getattr(clf, "metadata", None) or {}
    return {"labels": list(clf.labels), "max_length": getattr(clf, "max_length", None),
            "run_name": meta.get("run_name"), "created": meta.get("created")}


def _check_shard(shard) -> tuple[int, int] | None:
    if shard is None:
        return None
    try:
        i, n = (int(x) for x in shard)
    except (TypeError, ValueError):
        raise CorpusError(f"shard must be a pair (i, n), got {shard!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise CorpusError(f"shard {i}/{n}: need 0 <= i < n")
    return i, n


def predict_file(clf, input_path: str, output_path: str, text_column: str = "text", id_column: str | None = None,
                 shard: tuple[int, int] | None = None, batch_size: int = 1024, show_progress: bool = True,
                 mode: str = "sentences") -> dict:
    """Label every row of ``input_path`` into the Parquet folder ``output_path`` (see the module
    docstring); rerunning after an interruption resumes. Returns a summary dict."""
    from tqdm.auto import tqdm

    if mode not in ("sentences", "documents"):
        raise CorpusError(f"mode must be 'sentences' or 'documents', got {mode!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise CorpusError(f"batch_size must be a positive number of rows, got {batch_size!r}")
    shard = _check_shard(shard)
    i, n = shard or (0, 1)
    source = _Input(input_path, text_column, id_column)
    schema = _output_schema(mode, source.id_type if id_column else None)
    settings = {
        "format_version": FORMAT_VERSION, "mode": mode, "text_column": text_column, "id_column": id_column,
        "shard": list(shard) if shard else None, "input": _fingerprint(input_path), "input_format": source.format,
        "model": _model_identity(clf),
    }
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

        def flush(items):
            nonlocal out_rows, errors, done_rows, rows_this_run
            table = _predict_chunk(clf, items, mode, schema)
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
            for item in source.rows(start_row, select):
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


def _summary(folder, state, rows_this_run, resumed_after, seconds) -> dict:
    return {"output": folder, "complete": bool(state.get("complete")), "parts": state.get("parts", 0),
            "input_rows": state.get("n_input_rows"), "rows_done": state.get("input_rows_done", 0),
            "output_rows": state.get("output_rows", 0), "errors": state.get("errors", 0),
            "rows_this_run": rows_this_run, "resumed_at_row": resumed_after, "seconds": round(seconds, 3)}


# ---- merging -------------------------------------------------------------------

def _expand(paths: list[str]) -> tuple[list[str], list[str]]:
    """``(output folders, loose part files)`` from folders, parents of folders, and files."""
    folders, files = [], []
    for p in paths:
        if os.path.isdir(p):
            if os.path.isfile(os.path.join(p, STATE_FILE)):
                folders.append(p)
                continue
            subs = sorted(os.path.join(p, d) for d in os.listdir(p) if os.path.isfile(os.path.join(p, d, STATE_FILE)))
            if not subs:
                raise CorpusError(f"{p}: no {STATE_FILE} in it or in its subfolders: not a stancelib output folder")
            folders += subs
        elif os.path.isfile(p):
            if not p.lower().endswith((".parquet", ".pq")):
                raise CorpusError(f"{p}: not a Parquet file")
            files.append(p)
        else:
            raise FileNotFoundError(f"not found: {p}")
    return folders, files


def _check_folders(folders: list[str]) -> int | None:
    """Check the output folders form one complete set of shards; return the input's row count."""
    if not folders:
        return None
    states = []
    for folder in folders:
        state = _read_state(folder)
        if not state.get("complete"):
            raise CorpusError(f"{folder} is unfinished (next input row {state.get('next_row', 0)}): rerun the "
                              "same prediction command on it to finish, then merge")
        states.append((folder, state))
    first_folder, first = states[0]
    same = {k: v for k, v in first["settings"].items() if k != "shard"}
    for folder, state in states:
        other = {k: v for k, v in state["settings"].items() if k != "shard"}
        if other != same:
            diff = sorted(k for k in set(same) | set(other) if same.get(k) != other.get(k))
            raise CorpusError(f"{folder} and {first_folder} were made with different settings ({', '.join(diff)}): "
                              "not shards of one run")
    shards = {}
    for folder, state in states:
        i, n = state["settings"]["shard"] or (0, 1)
        if (i, n) in shards:
            raise CorpusError(f"shard {i}/{n} given twice: {shards[(i, n)]} and {folder}")
        shards[(i, n)] = folder
    counts = {n for _, n in shards}
    if len(counts) > 1:
        raise CorpusError(f"folders from different shard counts ({', '.join(f'{i}/{n}' for i, n in sorted(shards))})")
    n = counts.pop()
    missing = [f"{i}/{n}" for i in range(n) if (i, n) not in shards]
    if missing:
        raise CorpusError(f"missing shard(s) {', '.join(missing)}: every row of those shards would be lost")
    totals = {state["n_input_rows"] for _, state in states}
    if len(totals) > 1:
        raise CorpusError(f"the shards saw different input row counts {sorted(totals)}: was the input changed?")
    return totals.pop()


def _few(values, k=10) -> str:
    values = list(values)
    return ", ".join(map(str, values[:k])) + (f" ... ({len(values)} in all)" if len(values) > k else "")


def merge_outputs(paths: list[str], output_path: str) -> dict:
    """Join output folders (the shards of one run, or one folder) and/or part files into one
    Parquet file sorted by ``row`` (and ``sentence``); fail if a row is duplicated or missing.

    With folders, completeness is checked against the input's row count recorded in
    ``_state.json``: unfinished folders, missing or doubled shards and mixed settings are
    errors. Loose part files carry no such record: their rows must be unique and run from 0
    without a gap, but rows missing after the last one cannot be seen."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    folders, files = _expand([os.fspath(p) for p in paths])
    n_input = _check_folders(folders)
    sources = [p for folder in folders for p in _list_parts(folder)] + files
    if not sources:
        raise CorpusError("nothing to merge")
    tables = []
    for p in sources:
        t = pq.read_table(p)
        tables.append(t.replace_schema_metadata(None))
    schemas = {t.schema for t in tables}
    if len(schemas) > 1:
        a, b = list(schemas)[:2]
        raise CorpusError(f"the inputs have different columns or types ({a.names} vs {b.names}): "
                          "sentence and document outputs, or outputs with and without ids, cannot be merged")
    table = pa.concat_tables(tables)
    documents = "sentence" in table.schema.names
    keys = [("row", "ascending")] + ([("sentence", "ascending")] if documents else [])
    table = table.sort_by(keys)
    rows = table.column("row").to_numpy()
    if documents:
        sent = table.column("sentence").fill_null(-1).to_numpy()
        dup_mask = (np.diff(rows) == 0) & (np.diff(sent) == 0)
        # an article with no sentences has one row with sentence null, and nothing else
        nulls = rows[sent == -1]
        mixed = nulls[np.isin(nulls, rows[sent != -1])]
        if len(mixed):
            raise CorpusError(f"rows {_few(np.unique(mixed))} appear both with and without sentences: "
                              "outputs of different runs mixed")
    else:
        dup_mask = np.diff(rows) == 0
    if dup_mask.any():
        dups = np.unique(rows[1:][dup_mask])
        raise CorpusError(f"duplicate rows: {_few(dups)} (the same shard, folder or part file given twice?)")
    unique = np.unique(rows)
    expected = n_input if n_input is not None else (int(unique[-1]) + 1 if len(unique) else 0)
    if len(unique) != expected or (len(unique) and (unique[0] != 0 or unique[-1] != expected - 1)):
        missing = np.setdiff1d(np.arange(expected), unique)
        extra = unique[unique >= expected]
        msg = f"missing rows: {_few(missing)}" if len(missing) else f"rows beyond the input's {expected}: {_few(extra)}"
        raise CorpusError(f"{msg} (out of {expected} input rows)")
    meta = {"merged_from": [os.path.abspath(p) for p in folders + files], "input_rows": expected,
            "completeness_checked": n_input is not None, "created": _now()}
    if folders:
        meta["settings"] = {k: v for k, v in _read_state(folders[0])["settings"].items() if k != "shard"}
    table = table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
    parent = os.path.dirname(os.path.abspath(output_path))
    os.makedirs(parent, exist_ok=True)
    _write_parquet(output_path, table)
    return {"output": output_path, "rows": table.num_rows, "input_rows": expected,
            "completeness_checked": n_input is not None, "sources": len(sources)}


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
        live = [k for k, t in enumerate(texts) if isinstance(t, str) and t.strip()]
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


# ---- command line --------------------------------------------------------------

def parse_shard(value: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n`` (for argparse)."""
    import argparse

    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value or "")
    if not m:
        raise argparse.ArgumentTypeError(f"expected I/N such as 0/4, got {value!r}")
    i, n = int(m.group(1)), int(m.group(2))
    if not (n >= 1 and 0 <= i < n):
        raise argparse.ArgumentTypeError(f"shard {value}: need 0 <= I < N (I counts from 0)")
    return i, n


def add_corpus_arguments(parser) -> None:
    """Add the corpus options (``--input`` ...) to the ``predict`` parser."""
    g = parser.add_argument_group("corpus prediction (with --input; resumable, shardable)")
    g.add_argument("--input", help="JSONL, CSV/TSV (optionally .gz), Parquet, or a datasets save_to_disk folder")
    g.add_argument("--output", help="output folder of Parquet parts; rerun the same command to resume")
    g.add_argument("--shard", type=parse_shard, metavar="I/N", help="take rows with index %% N == I (I from 0)")
    g.add_argument("--text-column", default="text", help="column holding the text (default: text)")
    g.add_argument("--id-column", help="column to copy to the output as 'id'")
    g.add_argument("--documents", action="store_true",
                   help="the text column holds whole articles: one output row per sentence")
    g.add_argument("--rows-per-part", type=int, default=1024, metavar="N",
                   help="input rows per Parquet part (default 1024); work lost to a kill is at most one part")


def run_corpus_predict(clf, ns) -> int:
    """The ``predict --input`` command: returns the exit status."""
    if getattr(ns, "sentences", None) or getattr(ns, "file", None):
        print("stancelib predict: give either --input or sentences / --file, not both", file=sys.stderr)
        return 2
    if not ns.output:
        print("stancelib predict: --input needs --output FOLDER", file=sys.stderr)
        return 2
    summary = predict_file(clf, ns.input, ns.output, text_column=ns.text_column, id_column=ns.id_column,
                           shard=ns.shard, batch_size=ns.rows_per_part, show_progress=True,
                           mode="documents" if ns.documents else "sentences")
    if getattr(ns, "json", False):
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['output']}: {summary['rows_done']} input rows -> {summary['output_rows']} output rows "
              f"in {summary['parts']} parts ({summary['errors']} with errors)")
    return 0


def _cmd_merge(ns) -> int:
    result = merge_outputs(ns.paths, ns.output)
    note = "" if result["completeness_checked"] else " (loose part files: rows after the last could not be checked)"
    covered = f"input rows 0-{result['input_rows'] - 1} each present once" if result["input_rows"] else "no input rows"
    print(f"wrote {result['output']}: {result['rows']} rows, {covered}, from {result['sources']} part files{note}")
    return 0


def register_cli(subparsers) -> None:
    """Add ``stancelib merge OUT... --output FILE``."""
    p = subparsers.add_parser("merge", help="join the output folders of `predict --input` (shards) into one Parquet file")
    p.add_argument("paths", nargs="+", help="output folders (or a folder holding them) and/or part files")
    p.add_argument("--output", required=True, help="the merged Parquet file")
    p.set_defaults(func=_cmd_merge)
