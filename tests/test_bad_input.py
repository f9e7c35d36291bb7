"""Bad and odd input, everywhere text comes in: ``predict``, ``predict_proba``, ``analyze``, the
``stancelib predict`` command (sentences in argv, and a corpus with ``--input``).

What each case must give (the rules of ``stancelib/modeling.py`` and ``stancelib/batch``):

- blank (``""``, whitespace only, or nothing but control and format characters, which the
  tokenizer drops): nothing to classify, no error: label ``None``, a NaN
  probability row, an ``Analysis`` without sentences; in a corpus, label and probabilities null
  and no error;
- not a string (``None``, a number, bytes, a nested list, a dict): ``TypeError`` naming the item
  (``item 1`` of ``["A text.", bad]``), raised before the model runs; in a corpus, the row gets
  an error message and the other rows their predictions;
- a lone surrogate (a bad decode; ``"\\ud800"`` in JSON, a ``surrogateescape``d argv byte):
  ``ValueError`` naming the item, before the model runs; the command exits 1 with a message,
  no traceback; in a corpus, an error for that row only;
- long, control characters, emoji, Arabic, Chinese, Russian: valid text, labelled like any other
  (a long lone string is cut to ``max_length`` tokens; ``analyze`` labels each of its sentences).

Nothing may crash: every case ends in a result or in one of the errors above.
"""

import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

from stancelib import LABELS, StanceClassifier
from stancelib.batch import PROB_COLUMNS
from stancelib.cli import main
from tests.conftest import TINY, make_varied_model, write_jsonl

LONG = "The ministry said. " * 6000  # 114,000 characters, 6000 sentences
assert len(LONG) == 114_000
CONTROL = "\x00\x07 text \x1b"
SURROGATE = "bad \ud800 text"
EMOJI = "Prices rose 🚀🔥 on Monday, the ministry said 👍."
ARABIC = "قالت الوزارة إن 40 شخصا أصيبوا."
CHINESE = "政府周一宣布了新税。"
RUSSIAN = "Министерство заявило, что пострадали 40 человек."
VALID_ODD = {"long": LONG, "control": CONTROL, "emoji": EMOJI, "arabic": ARABIC, "chinese": CHINESE,
             "russian": RUSSIAN}
BLANKS = {"empty": "", "whitespace": "  \n\t ", "control only": "\x00\x07 \x1b\u200b"}
# (value, the type name the error must give)
NOT_STRINGS = {"none": (None, "NoneType"), "int": (3, "int"), "float": (1.5, "float"), "bytes": (b"text", "bytes"),
               "nested": (["A text."], "list"), "dict": ({"text": "A text."}, "dict")}
METHODS = ("predict", "predict_proba", "analyze")


@pytest.fixture
def clf(saved_tiny_model):
    return StanceClassifier.from_pretrained(saved_tiny_model, device="cpu")


class CountingRunner:
    """Wraps ``clf.runner`` to count encoder calls (a bad item must be refused before any)."""

    def __init__(self, runner):
        self.runner, self.calls = runner, 0

    def __call__(self, batch):
        self.calls += 1
        return self.runner(batch)


@pytest.fixture(scope="module")
def model_dir(tokenizer, tmp_path_factory):
    """A tiny model that gives all three labels: "the good rows keep their labels" then compares
    labels that differ."""
    model = make_varied_model(tokenizer, [t for texts in TINY.values() for t in texts])
    path = str(tmp_path_factory.mktemp("bad-input") / "model")
    StanceClassifier(model, tokenizer, max_length=64, metadata={"run_name": "bad-input"}).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def scaled(model_dir):
    return StanceClassifier.from_pretrained(model_dir, device="cpu")


# ---- the library --------------------------------------------------------------------------

@pytest.mark.parametrize("name", BLANKS)
def test_blank_gives_none_and_nan(clf, name):
    text = BLANKS[name]
    assert clf.predict(text) is None
    probs = clf.predict_proba(text)
    assert probs.shape == (3,) and np.isnan(probs).all()
    assert clf.analyze(text).sentences == []
    # in a list the blank costs its own item only
    assert clf.predict(["A text.", text]) == [clf.predict("A text."), None]
    both = clf.predict_proba(["A text.", text])
    np.testing.assert_allclose(both[0], clf.predict_proba("A text."), atol=1e-6)
    assert np.isnan(both[1]).all()
    first, second = clf.analyze(["A text.", text])
    assert [s.label for s in first.sentences] == [s.label for s in clf.analyze("A text.").sentences]
    assert second.sentences == []


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", NOT_STRINGS)
def test_non_strings_raise_type_error_naming_the_item(clf, method, name):
    bad, type_name = NOT_STRINGS[name]
    clf.runner = counter = CountingRunner(clf.runner)
    call = getattr(clf, method)
    if name == "nested":  # a list is a list of inputs: [["A text."]] has a bad item 0
        with pytest.raises(TypeError, match="item 0 is list"):
            call([bad])
    else:
        with pytest.raises(TypeError, match=type_name):
            call(bad)
    with pytest.raises(TypeError, match=f"item 1 is {type_name}, not str"):
        call(["A text.", bad])
    with pytest.raises(TypeError, match=f"item 2 is {type_name}, not str"):
        call(("A text.", "Another text.", bad))  # a tuple is a list of inputs too
    assert counter.calls == 0  # refused before any work


@pytest.mark.parametrize("method", METHODS)
def test_lone_surrogate_raises_value_error_naming_the_item(clf, method):
    clf.runner = counter = CountingRunner(clf.runner)
    call = getattr(clf, method)
    with pytest.raises(ValueError, match="item 0 is not valid Unicode text.*lone surrogate"):
        call(SURROGATE)
    with pytest.raises(ValueError, match="item 1 is not valid Unicode text"):
        call(["A text.", SURROGATE])
    assert counter.calls == 0


@pytest.mark.parametrize("name", VALID_ODD)
def test_odd_but_valid_text_is_labelled(clf, name):
    text = VALID_ODD[name]
    label = clf.predict(text)
    probs = clf.predict_proba(text)
    assert label in LABELS and label == LABELS[int(probs.argmax())]
    assert np.isfinite(probs).all() and abs(probs.sum() - 1) < 1e-5
    # beside a plain text, each is read as it is read alone
    both = clf.predict_proba(["A text.", text])
    np.testing.assert_allclose(both[1], probs, atol=1e-5)
    np.testing.assert_allclose(both[0], clf.predict_proba("A text."), atol=1e-5)
    if name == "long":  # a lone string is cut to max_length tokens: its opening decides
        np.testing.assert_allclose(probs, clf.predict_proba(text[:1000]), atol=1e-5)
    analysis = clf.analyze(text)
    assert analysis.sentences
    for s in analysis.sentences:
        assert text[s.start:s.end] == s.text and s.label in LABELS
        assert abs(sum(s.probabilities.values()) - 1) < 1e-3
    if name == "long":
        assert len(analysis.sentences) == 6000  # every sentence of the article, none cut off


# ---- the command: sentences from argv -----------------------------------------------------

@pytest.mark.parametrize("name", ["long", "control", "emoji", "arabic", "chinese", "russian"])
def test_cli_labels_odd_but_valid_arguments(model_dir, scaled, capsys, name):
    text = VALID_ODD[name]
    assert main(["predict", "--model", model_dir, "--json", text, "Rain fell."]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["text"] for r in rows] == [text, "Rain fell."]
    assert [r["label"] for r in rows] == scaled.predict([text, "Rain fell."])
    # the table form prints too (control characters and all)
    assert main(["predict", "--model", model_dir, text]) == 0
    assert capsys.readouterr().out.split()[0] == scaled.predict(text)


def test_cli_refuses_a_surrogate_escaped_argument_with_a_message(model_dir, capsys):
    # how Python hands over an argv byte that is not UTF-8 (b"\xff" -> "\udcff")
    bad = os.fsdecode(b"bad \xff text")
    assert bad == "bad \udcff text"
    assert main(["predict", "--model", model_dir, bad]) == 1
    err = capsys.readouterr().err
    assert "stancelib predict: error: input item 0 is not valid Unicode text" in err and "Traceback" not in err
    assert main(["predict", "--model", model_dir, "--json", "Rain fell.", bad]) == 1
    captured = capsys.readouterr()
    assert "input item 1 is not valid Unicode text" in captured.err and captured.out == ""


def test_cli_refuses_an_article_file_that_is_not_utf8(model_dir, tmp_path, capsys):
    path = tmp_path / "article.txt"
    path.write_bytes(b"The ministry said 40 people were hurt. Caf\xe9 prices rose.")
    assert main(["predict", "--model", model_dir, "--file", str(path)]) == 1
    err = capsys.readouterr().err
    # a message, not a traceback (it gives the byte and position; it does not name the file)
    assert "stancelib predict: error: 'utf-8' codec can't decode byte 0xe9" in err and "Traceback" not in err


# ---- the command: a corpus with one bad row among good ones --------------------------------

GOOD = {0: "The ministry said 40 people were hurt.", 2: "Critics say the plan is doomed to fail.",
        4: EMOJI, 6: ARABIC, 8: CHINESE, 9: RUSSIAN, 10: CONTROL, 12: "The bridge reopened to traffic.",
        13: LONG}
# row -> (JSONL line, what its error column must say); None: no error
BAD = {1: ('{"text": 42}', "text is int, not a string"),
       3: ('{"id": "x"}', "no 'text' field"),
       5: ('{"text": "bad \\ud800 text"}', "text is not valid UTF-8"),  # the JSON escape, not a raw surrogate
       7: ('{"text": null}', "text is missing (null)"),
       11: ('{"text": ["a", "b"]}', "text is list, not a string"),
       14: ("not json", "invalid JSON"),
       15: ('[1, 2]', "record is a JSON list, not an object")}
BLANK_ROW = 16


def _write_corpus(path):
    lines = []
    for row in range(17):
        if row in GOOD:
            lines.append(json.dumps({"text": GOOD[row]}))
        elif row in BAD:
            lines.append(BAD[row][0])
        else:
            lines.append(json.dumps({"text": "   "}))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return str(path)


def test_corpus_bad_rows_are_reported_and_the_good_ones_predicted(model_dir, scaled, tmp_path, capsys):
    src = _write_corpus(tmp_path / "in.jsonl")
    out = str(tmp_path / "out")
    assert main(["predict", "--model", model_dir, "--input", src, "--output", out, "--rows-per-part", "5"]) == 0
    assert f"({len(BAD)} with errors)" in capsys.readouterr().out
    t = pq.read_table(out).sort_by("row").to_pylist()
    assert [r["row"] for r in t] == list(range(17))  # every input row, once, in its place
    # the bad rows: the row index names the row, the error says what is wrong with it, no label
    for row, (_, message) in BAD.items():
        assert t[row]["error"] and t[row]["error"].startswith(message), (row, t[row]["error"])
        assert t[row]["label"] is None and all(t[row][c] is None for c in PROB_COLUMNS)
    # ... and the output folder names the file they are rows of
    state = json.load(open(os.path.join(out, "_state.json")))
    assert state["settings"]["input"]["name"] == "in.jsonl" and state["errors"] == len(BAD)
    # a blank row: no label, no probabilities, and no error
    blank = t[BLANK_ROW]
    assert blank["error"] is None and blank["label"] is None and all(blank[c] is None for c in PROB_COLUMNS)
    # the good rows: exactly what the model says of the same texts
    rows = sorted(GOOD)
    texts = [GOOD[r] for r in rows]
    assert [t[r]["error"] for r in rows] == [None] * len(rows)
    assert [t[r]["text"] for r in rows] == texts
    labels = [t[r]["label"] for r in rows]
    assert labels == scaled.predict(texts)
    assert len(set(labels)) > 1  # not one label for everything
    probs = np.array([[t[r][c] for c in PROB_COLUMNS] for r in rows])
    np.testing.assert_allclose(probs, scaled.predict_proba(texts), atol=1e-5)


def test_corpus_documents_mode_isolates_the_bad_rows(model_dir, scaled, tmp_path):
    articles = {0: "The ministry said 40 people were hurt. Critics say the plan is doomed.",
                2: EMOJI + " " + ARABIC + " " + RUSSIAN, 3: CONTROL + " " + CHINESE}
    src = write_jsonl(tmp_path / "docs.jsonl", [{"text": articles[0]}, {"text": 7}, {"text": articles[2]},
                                                {"text": articles[3]}])
    with open(src, "a", encoding="utf-8") as f:
        f.write('{"text": "Rain fell. \\ud800"}\n')  # row 4: a lone surrogate
    out = str(tmp_path / "out")
    assert main(["predict", "--model", model_dir, "--documents", "--input", src, "--output", out]) == 0
    t = pq.read_table(out).sort_by([("row", "ascending"), ("sentence", "ascending")]).to_pylist()
    by_row = {}
    for rec in t:
        by_row.setdefault(rec["row"], []).append(rec)
    assert sorted(by_row) == [0, 1, 2, 3, 4]
    assert [r["error"] for r in by_row[1]] == ["text is int, not a string"]
    assert [r["error"] for r in by_row[4]] == ["text is not valid UTF-8"]
    for row, text in articles.items():
        expected = scaled.analyze(text).sentences
        assert [(r["start"], r["end"], r["label"], r["error"]) for r in by_row[row]] == [
            (s.start, s.end, s.label, None) for s in expected]
