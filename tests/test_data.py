import json

import pytest

from stancelib.data import DataError, check_disjoint, load_dataset, load_minimal_pairs, read_records
from tests.conftest import write_jsonl


def test_jsonl_loads_into_dataset_with_spans(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"text": "The ministry said 40 people were hurt.", "label": "attributed_statement",
         "source": "The ministry", "cue": "said", "doc": "d1", "i": 1, "hard": "rule 7"},
        {"text": "Rain fell.", "label": "neutral_report"},
    ])
    ds = load_dataset(path)
    assert len(ds) == 2
    assert ds[0]["source"] == {"start": 0, "end": 12, "text": "The ministry"}
    assert ds[0]["cue"]["text"] == "said" and ds[0]["hard"] == "rule 7"
    assert ds[1]["source"] is None and ds[1]["doc"] is None and ds[1]["hard"] == ""


def test_csv_loads(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('text,label\n"Critics say it, loudly.",unattributed_claim\nRain fell.,neutral_report\n', encoding="utf-8")
    recs = read_records(str(path))
    assert [r["label"] for r in recs] == ["unattributed_claim", "neutral_report"]
    assert recs[1]["_where"].endswith("a.csv:3")


@pytest.mark.parametrize("line, message", [
    ('{"text": "Rain fell.", "label": "opinion"}', "unknown label 'opinion'"),
    ('{"text": "   ", "label": "neutral_report"}', "missing or empty 'text'"),
    ('{"label": "neutral_report"}', "missing or empty 'text'"),
    ('{"text": "Rain fell." "label": 1}', "malformed JSON"),
    ('{"text": "Rain fell.", "label": "neutral_report", "source": "Snow"}', "not a substring"),
    ('{"text": "Rain fell.", "label": "neutral_report", "i": "x"}', "must be an integer"),
])
def test_errors_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "Fine.", "label": "neutral_report"}\n\n' + line + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_records(str(path))
    assert f"{path}:3" in str(err.value) and message in str(err.value)


def test_csv_error_names_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nRain fell.,neutral_report\nSnow fell.,neutral\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv:3: unknown label"):
        read_records(str(path))


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        read_records("nope.jsonl")


def test_same_sentence_in_two_splits_is_an_error(tmp_path):
    a = write_jsonl(tmp_path / "train.jsonl", [{"text": "Rain fell on Monday.", "label": "neutral_report"}])
    b = write_jsonl(tmp_path / "test.jsonl", [{"text": "Other.", "label": "neutral_report"},
                                             {"text": "rain fell  on Monday.", "label": "neutral_report"}])
    with pytest.raises(DataError, match=r"test\.jsonl:2: sentence also in split 'train' \(.*train\.jsonl:1\)"):
        check_disjoint({"train": read_records(a), "test": read_records(b)})
    check_disjoint({"train": read_records(a), "also_train": read_records(a)[:0]})


def test_minimal_pairs_expand_by_split(tiny_corpus):
    recs = load_minimal_pairs(tiny_corpus["pairs"], "test")
    assert [r["label"] for r in recs] == ["neutral_report", "attributed_statement", "unattributed_claim"]
    assert {r["doc"] for r in recs} == {"g2"}
    assert recs[1]["source"]["text"] == "her office"
    assert len(load_minimal_pairs(tiny_corpus["pairs"])) == 9


def test_minimal_pairs_need_all_members(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"group": "g", "neutral": "A.", "attributed": "", "unattributed": "C."}) + "\n")
    with pytest.raises(DataError, match=r"pairs\.jsonl:1: .*'attributed'"):
        load_minimal_pairs(str(path))
