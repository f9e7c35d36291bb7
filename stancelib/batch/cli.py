"""Command line of corpus prediction: ``predict --input/--output/--shard`` and ``merge``."""

from __future__ import annotations

import json
import re
import sys


from .merge import merge_outputs
from .predict import predict_file


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
    g.add_argument("--group-by-doc", action="store_true",
                   help="sentence rows: read each with its document's neighbouring rows (by --doc-column, "
                        "ordered by --index-column); rows without a doc stand alone")
    g.add_argument("--doc-column", default="doc", help="with --group-by-doc: the document column (default: doc)")
    g.add_argument("--index-column", default="i",
                   help="with --group-by-doc: the sentence's index in its document (default: i)")
    r = parser.add_argument_group("cluster prediction (with --input --engine ray; needs stancelib[ray])")
    r.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process, resumable (default); ray: Ray Data actors, one model each")
    r.add_argument("--address", help="Ray cluster to join: 'auto' (a `ray start` on this machine) or "
                                     "ray://HOST:10001; default: start a local Ray")
    r.add_argument("--actors", type=int, default=2, metavar="N", help="model actors (default 2)")
    r.add_argument("--cpus-per-actor", type=float, default=1.0, metavar="C",
                   help="CPUs each actor reserves, and its torch threads (default 1)")
    r.add_argument("--batch-size", type=int, default=256, metavar="B",
                   help="input rows per actor call (default 256; --group-by-doc: about that many, whole documents)")


def run_corpus_predict(clf, ns) -> int:
    """The ``predict --input`` command: returns the exit status."""
    if getattr(ns, "sentences", None) or getattr(ns, "file", None):
        print("stancelib predict: give either --input or sentences / --file, not both", file=sys.stderr)
        return 2
    if not ns.output:
        print("stancelib predict: --input needs --output FOLDER", file=sys.stderr)
        return 2
    mode = "documents" if ns.documents else "sentences"
    if getattr(ns, "engine", "local") == "ray":
        if ns.shard:
            print("stancelib predict: --engine ray spreads the work itself; leave out --shard", file=sys.stderr)
            return 2
        from .ray import predict_ray

        # each actor loads the model folder itself (the driver's copy, clf, is not shipped)
        summary = predict_ray(ns.input, ns.model, ns.output, mode=mode, text_column=ns.text_column,
                              id_column=ns.id_column, group_by_doc=ns.group_by_doc, doc_column=ns.doc_column,
                              index_column=ns.index_column, actors=ns.actors, batch_size=ns.batch_size,
                              cpus_per_actor=ns.cpus_per_actor, address=ns.address, show_progress=True)
        if getattr(ns, "json", False):
            print(json.dumps(summary, indent=2))
        else:
            print(f"{summary['output']}: {summary['input_rows']} input rows -> {summary['output_rows']} output rows "
                  f"in {summary['parts']} parts ({summary['errors']} with errors) on {summary['actors']} Ray actors")
        return 0
    summary = predict_file(clf, ns.input, ns.output, text_column=ns.text_column, id_column=ns.id_column,
                           shard=ns.shard, batch_size=ns.rows_per_part, show_progress=True, mode=mode,
                           group_by_doc=ns.group_by_doc, doc_column=ns.doc_column, index_column=ns.index_column)
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
