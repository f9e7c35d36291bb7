"""Label a whole corpus: chunked, resumable, shardable prediction to Parquet.

Modules: :mod:`.reader` (the input), :mod:`.predict` (``predict_file``, ``predict_dataset``),
:mod:`.groups` (sentence rows regrouped by document), :mod:`.ray` (``predict_ray``: the same
rows on Ray Data actors), :mod:`.folder` (the output folder: atomic parts, state, lock),
:mod:`.merge`, :mod:`.cli`.

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

``group_by_doc=True`` (sentence rows): each row is labelled with its document's neighbouring
rows (``clf.predict_proba_documents``), the document given by ``doc_column`` and the order by
``index_column`` (default ``doc`` and ``i``); a row without a doc stands alone. Same columns
and row order as sentence mode.

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

from .cli import add_corpus_arguments, parse_shard, register_cli, run_corpus_predict
from .folder import FORMAT_VERSION, LOCK_FILE, PROB_COLUMNS, STATE_FILE, CorpusError
from .merge import merge_outputs
from .predict import predict_columns, predict_dataset, predict_file
from .ray import predict_ray  # imports Ray only when called

__all__ = [
    "FORMAT_VERSION", "LOCK_FILE", "PROB_COLUMNS", "STATE_FILE", "CorpusError", "add_corpus_arguments",
    "merge_outputs", "parse_shard", "predict_columns", "predict_dataset", "predict_file", "predict_ray", "register_cli",
    "run_corpus_predict",
]
