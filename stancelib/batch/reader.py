"""Reading the input of a corpus run: JSONL, CSV/TSV (optionally gzipped), Parquet, datasets folders."""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import json
import os


from .folder import CorpusError

_READ_BLOCK = 8192  # rows per read from Parquet / datasets input
_PEEK_ROWS = 100  # JSONL records looked at to check the column names before a run


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
    ``(row, text, id, error, keys)`` for the selected rows from a start row on.
    ``seen`` counts all rows passed so far (the input's row count once exhausted).
    ``keys`` holds the raw values of ``key_columns`` (``doc`` and ``i`` for the
    group-by-document mode; ``None`` where a record lacks one); ``()`` without them.
    ``missing_keys`` lists the key columns a CSV header or Arrow schema lacks."""

    def __init__(self, path: str, text_column: str = "text", id_column: str | None = None,
                 key_columns: tuple[str, ...] = ()):
        self.path, self.text_column, self.id_column = path, text_column, id_column
        self.key_columns = tuple(key_columns)
        self.missing_keys: list[str] = []
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
        self.missing_keys = [c for c in self.key_columns if c not in schema.names]

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
        self.missing_keys = [c for c in self.key_columns if c not in header]

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
        """Yield ``(row, text, id, error, keys)`` for rows ``>= start`` for which ``select(row)``."""
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
                no_keys = (None,) * len(self.key_columns)
                try:
                    obj = json.loads(line)
                except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
                    yield k, None, None, f"invalid JSON: {e}", no_keys
                    continue
                if not isinstance(obj, dict):
                    yield k, None, None, f"record is a JSON {type(obj).__name__}, not an object", no_keys
                    continue
                ident = _id_text(obj.get(self.id_column)) if self.id_column else None
                keys = tuple(obj.get(c) for c in self.key_columns)
                if self.text_column not in obj:
                    yield k, None, ident, f"no {self.text_column!r} field", keys
                    continue
                yield k, obj[self.text_column], ident, None, keys

    def _csv_rows(self, start, select):
        limit = csv.field_size_limit()
        csv.field_size_limit(max(limit, 2**31 - 1))  # whole articles can exceed the 128 KiB default
        with self._open_text() as f:
            reader = csv.reader(f, delimiter=self._delimiter)
            header = next(reader, None) or []
            ti = header.index(self.text_column)
            ii = header.index(self.id_column) if self.id_column else None
            ki = [header.index(c) if c in header else None for c in self.key_columns]
            no_keys = (None,) * len(ki)
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
                        yield k, None, None, f"CSV error near line {reader.line_num}: {e}", no_keys
                    continue
                if not rec:
                    continue  # a blank line is no record
                k += 1
                self.seen = k + 1
                if k < start or not select(k):
                    continue
                if len(rec) != len(header):  # no field of it can be trusted, the id neither
                    yield k, None, None, (f"CSV record near line {reader.line_num} has {len(rec)} fields, "
                                          f"the header {len(header)} (unquoted delimiter in the text?)"), no_keys
                    continue
                keys = tuple(rec[j] if j is not None else None for j in ki)
                yield k, rec[ti], (_id_text(rec[ii]) if ii is not None else None), None, keys

    def _arrow_rows(self, blocks, base, start, select):
        for texts, ids, keys in blocks:
            for j, text in enumerate(texts):
                k = base + j
                self.seen = k + 1
                if k >= start and select(k):
                    yield k, text, (ids[j] if ids is not None else None), None, tuple(
                        col[j] if col is not None else None for col in keys)
            base += len(texts)

    def _present_keys(self) -> list[str]:
        return [c for c in self.key_columns if c not in self.missing_keys]

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
        keys = self._present_keys()
        columns = list(dict.fromkeys([self.text_column] + ([self.id_column] if self.id_column else []) + keys))

        def blocks():
            for batch in pf.iter_batches(batch_size=_READ_BLOCK, row_groups=list(range(g0, len(counts))), columns=columns):
                yield (batch.column(self.text_column).to_pylist(),
                       batch.column(self.id_column).to_pylist() if self.id_column else None,
                       [batch.column(c).to_pylist() if c in keys else None for c in self.key_columns])

        yield from self._arrow_rows(blocks(), base, start, select)

    def _datasets_rows(self, start, select):
        import datasets

        ds = datasets.load_from_disk(self.path)
        keys = self._present_keys()
        ds = ds.select_columns(list(dict.fromkeys([self.text_column] + ([self.id_column] if self.id_column else []) + keys)))
        first = start - start % _READ_BLOCK
        self.seen = min(first, len(ds))

        def blocks():
            for a in range(first, len(ds), _READ_BLOCK):
                chunk = ds[a : a + _READ_BLOCK]
                yield (chunk[self.text_column], (chunk[self.id_column] if self.id_column else None),
                       [chunk[c] if c in keys else None for c in self.key_columns])

        yield from self._arrow_rows(blocks(), first, start, select)
