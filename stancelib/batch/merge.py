"""Merging the output folders (shards) of a corpus run into one Parquet file, checking every row is there once."""

from __future__ import annotations

import json
import os

import numpy as np

from .folder import CorpusError, STATE_FILE, _META_KEY, _list_parts, _now, _read_state, _write_parquet


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
