"""Adapters for the real news corpora (stancelib.corpora).

Unit tests build tiny synthetic corpora in each corpus's exact file format with
sentences invented for these tests (no corpus text is ever copied here). The
tests marked ``shared_data`` read the real corpora from ../shared/data and skip
when that folder is absent.
"""

import csv
import os

import pytest

from stancelib.corpora import (
    HELD_OUT,
    TUNING_SETS,
    cue_qualifies,
    impersonal_cue,
    load_babe,
    load_checkthat,
    load_newssd,
    load_polnear,
    source_kind,
    text_key,
    trainable_records,
    vague_source,
)
from stancelib.data import validate_record
from stancelib.sentences import split_sentences
from stancelib.windows import documents_from_records

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
NONE = ["neutral_report", "unattributed_claim"]
OBJ = ["neutral_report", "attributed_statement"]
ALL = ["neutral_report", "attributed_statement", "unattributed_claim"]


# --------------------------------------------------------------------------- synthetic corpora

ARTICLE = (
    "Ferry fares to rise in spring\n"
    "\n"
    "The harbour board raised ferry fares by 8 percent on Monday. "
    "Port director Mira Solberg said the increase would pay for two new boats. "
    "\u201cWe have waited ten years for this,\u201d Solberg added. "
    "\u201cThe old boats are falling apart and the crews deserve better.\u201d "
    "Residents believe the fares are already too high. "
    "She told reporters the board would review prices next year. "
    "Critics say the fares will drive visitors away. "
    "A spokesman said the timetable is unchanged. "
    "The first new boat is due in May.\n"
)
ORPHAN_PRONOUN = "It rained all week.\nHe said the roads were closed.\nThe bakery opened at noon.\n"


class Brat:
    """Writes a brat .ann file with spans located by substring."""

    def __init__(self, text):
        self.text, self.lines, self.t, self.e = text, [], 0, 0

    def span(self, kind, *pieces):
        """Each piece is a unique substring, or (substring, unique longer text that holds it)."""
        segs = []
        for piece in pieces:
            piece, around = piece if isinstance(piece, tuple) else (piece, piece)
            assert self.text.count(around) == 1, around
            start = self.text.index(around) + around.index(piece)
            segs.append((start, start + len(piece)))
        self.t += 1
        offsets = ";".join(f"{a} {b}" for a, b in segs)
        self.lines.append(f"T{self.t}\t{kind} {offsets}\t{' '.join(self.text[a:b] for a, b in segs)}")
        return f"T{self.t}"

    def attribution(self, source, cue, content, content_pieces=None, no_source=False):
        ids = {}
        if source:
            ids["Source"] = self.span("Source", source)
        ids["Cue"] = self.span("Cue", cue)
        ids["Content"] = self.span("Content", *(content_pieces or [content]))
        kind = "Attribution-no-source" if no_source else "Attribution"
        trigger = self.span(kind, cue)
        self.e += 1
        args = " ".join(f"{role}:{tid}" for role, tid in ids.items())
        self.lines.append(f"E{self.e}\t{kind}:{trigger} {args}")

    def write(self, path):
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def write_polnear(root, split, name, text, brat, extra_annotators=()):
    base = root / "polnear" / "data" / split
    (base / "text").mkdir(parents=True, exist_ok=True)
    (base / "attributions").mkdir(parents=True, exist_ok=True)
    (base / "text" / f"{name}.txt").write_text(text, encoding="utf-8", newline="")
    brat.write(base / "attributions" / f"{name}_a1f0.ann")
    for suffix, other in extra_annotators:
        other.write(base / "attributions" / f"{name}_{suffix}.ann")


def ferry_brat():
    b = Brat(ARTICLE)
    b.attribution("Port director Mira Solberg", ("said", "Solberg said"), "the increase would pay for two new boats")
    # a quote split over two sentences: one discontinuous Content span
    b.attribution(("Solberg", "Solberg added"), "added", None, content_pieces=[
        "\u201cWe have waited ten years for this,\u201d",
        "\u201cThe old boats are falling apart and the crews deserve better.\u201d",
    ])
    b.attribution("Residents", "believe", "the fares are already too high")
    b.attribution("She", "told", "the board would review prices next year")
    b.attribution("Critics", ("say", "Critics say"), "the fares will drive visitors away")
    return b


# invented sentences, one per case of the vague-source rule (LABELS.md rule 3)
VAGUE_ARTICLE = (
    "Ferry contract in doubt\n"
    "\n"
    "Officials, speaking on condition of anonymity, said the ferry contract would be cancelled. "
    "Sources said the harbour board had run out of money. "
    "Senior officials said the new boats had failed their sea trials. "
    "It was reported that the crews had not been paid since March. "
    "The old ferries reportedly lost money every winter. "
    "Critics say the plan is too costly, Mayor Ana Ortiz told the council. "
    "A spokesman for the harbour board said the timetable was unchanged. "
    "Harbour Board officials said the drills would continue. "
    "Port Authority sources said the drills would stop. "
    "The official said the pier would close at noon. "
    "\u201cThe pier was closed at noon,\u201d an official said. "
    "Forty percent of voters said the fares were too high. "
    "Democrats said the board should resign. "
    "The new timetable was announced on Friday. "
    "Some experts believe the boats are unsafe. "
    "Ben Lee said talks went well, but officials said the contract would lapse unless the board found new money by June.\n"
)
VAGUE_SENTENCES = [
    "Officials, speaking on condition of anonymity, said the ferry contract would be cancelled.",
    "Sources said the harbour board had run out of money.",
    "Senior officials said the new boats had failed their sea trials.",
    "It was reported that the crews had not been paid since March.",
    "The old ferries reportedly lost money every winter.",
    "Port Authority sources said the drills would stop.",
]
NOT_VAGUE_SENTENCES = [  # identifiable, anaphoric, direct quote, poll, bare group, event passive, belief, mixed
    "A spokesman for the harbour board said the timetable was unchanged.",
    "Harbour Board officials said the drills would continue.",
    "The official said the pier would close at noon.",
    "\u201cThe pier was closed at noon,\u201d an official said.",
    "Forty percent of voters said the fares were too high.",
    "Democrats said the board should resign.",
    "The new timetable was announced on Friday.",
    "Some experts believe the boats are unsafe.",
    # the officials' part is longer, but a named source has a part in the sentence too
    "Ben Lee said talks went well, but officials said the contract would lapse unless the board found new money by June.",
]


def vague_brat():
    b = Brat(VAGUE_ARTICLE)
    b.attribution("Officials, speaking on condition of anonymity", ("said", "anonymity, said"),
                  "the ferry contract would be cancelled")
    b.attribution("Sources", ("said", "Sources said"), "the harbour board had run out of money")
    b.attribution("Senior officials", ("said", "Senior officials said"), "the new boats had failed their sea trials")
    b.attribution(None, "It was reported", "the crews had not been paid since March", no_source=True)
    b.attribution(None, "reportedly", None, content_pieces=["The old ferries", "lost money every winter"], no_source=True)
    b.attribution("Critics", ("say", "Critics say"), "the plan is too costly")
    b.attribution("Mayor Ana Ortiz", ("told", "Ortiz told"), "Critics say the plan is too costly")
    b.attribution("A spokesman for the harbour board", ("said", "board said"), "the timetable was unchanged")
    b.attribution("Harbour Board officials", ("said", "Board officials said"), "the drills would continue")
    b.attribution("Port Authority sources", ("said", "Authority sources said"), "the drills would stop")
    b.attribution("The official", ("said", "The official said"), "the pier would close at noon")
    b.attribution("an official", ("said", "an official said"), "\u201cThe pier was closed at noon,\u201d")
    b.attribution("Forty percent of voters", ("said", "voters said"), "the fares were too high")
    b.attribution("Democrats", ("said", "Democrats said"), "the board should resign")
    b.attribution(None, "was announced", "The new timetable", no_source=True)
    b.attribution("Some experts", "believe", "the boats are unsafe")
    b.attribution("Ben Lee", ("said", "Lee said"), "talks went well")
    b.attribution(("officials", "but officials"), ("said", "but officials said"),
                  "the contract would lapse unless the board found new money by June")
    return b


def write_tsv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


CT_DIR = ("checkthat2025-subjectivity-en", "task1", "data", "english")
CT_TRAIN = [
    ("t-1", "The library extended its opening hours to 9 p.m.", "OBJ", "False"),
    ("t-2", "This shameful budget betrays every family in the valley.", "SUBJ", "True"),
    ("t-3", "The final match drew a   \"record\" crowd of 40,000.", "OBJ", "False"),
    ("t-4", "The orchard harvest began on Tuesday.", "OBJ", "False"),  # also in dev_test: a leak
]
CT_DEV = [("d-1", "The council approved the new cycle lanes.", "OBJ", ""),
          ("d-2", "Frankly, the new stadium is an eyesore.", "SUBJ", "")]
CT_DEV_TEST = [("x-1", "The orchard harvest began on Tuesday.", "OBJ"),
               ("x-2", "Nobody in their right mind would buy that car.", "SUBJ")]


def write_checkthat(root):
    base = root.joinpath(*CT_DIR)
    write_tsv(base / "train_en.tsv", ["sentence_id", "sentence", "label", "solved_conflict"], CT_TRAIN)
    write_tsv(base / "dev_en.tsv", ["sentence_id", "sentence", "label", "solved_conflict"], CT_DEV)
    write_tsv(base / "dev_test_en.tsv", ["sentence_id", "sentence", "label"], CT_DEV_TEST)


def write_newssd(root):
    base = root / "newssd-eng" / "data" / "english"
    base.mkdir(parents=True, exist_ok=True)
    files = {
        # the first row is a CheckThat! dev_test sentence with other case and spacing
        "train": [("the orchard harvest began\non Tuesday.\n", "OBJ", "False"),
                  ("A new footbridge links the two\nvillages.\n", "OBJ", "False"),
                  ("What a dreadful idea this tax is.\n", "SUBJ", "True")],
        "val": [("A new footbridge links the two villages.", "OBJ", "False")],  # repeat within NewsSD
        "test": [("Frankly, the new stadium is an eyesore.", "SUBJ", "False")],  # in CheckThat! dev
    }
    for name, rows in files.items():
        with open(base / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["Sentence", "Label", "Solved conflict"])
            w.writerows(rows)


BABE_ROWS = [
    ("The ferry operator hired 30 new crew members.", "https://example.org/a", "Harbour Times", "Entirely factual"),
    ("This greedy operator cares only about profit.", "https://example.org/b", "Harbour Times", "Expresses writer\u2019s opinion"),
    ("The operator, as usual, blamed the weather.", "https://example.org/c", "Quay Post", "Somewhat factual but also opinionated"),
    ("Ticket sales doubled in the first quarter.", "https://example.org/d", "Quay Post", "No agreement"),
    ("Shares in the operator rose 3 percent on Friday.", "https://example.org/e", "Reuters", "Entirely factual"),
    ("The merger is a terrible deal for \"small\" ports.", "", "Reuters", "Expresses writer's opinion"),
]


def write_babe(root):
    base = root / "babe" / "data"
    base.mkdir(parents=True, exist_ok=True)
    with open(base / "final_labels_SG2.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        # only the columns the loader reads (the real file has more)
        w.writerow(["text", "news_link", "outlet", "label_opinion"])
        for text, link, outlet, opinion in BABE_ROWS:
            w.writerow([text, link, outlet, opinion])


@pytest.fixture
def synth(tmp_path):
    root = tmp_path / "data"
    write_polnear(root, "train", "ferry-fares", ARTICLE, ferry_brat(),
                  extra_annotators=[("zz99", Brat(ARTICLE))])  # a later annotator file with no attributions
    orphan = Brat(ORPHAN_PRONOUN)
    orphan.attribution(("He", "He said"), ("said", "He said"), "the roads were closed")
    write_polnear(root, "dev", "orphan", ORPHAN_PRONOUN, orphan)
    test_text = "The bridge toll was cut to two dollars.\nThe mayor said the toll would be scrapped by June.\n"
    tb = Brat(test_text)
    tb.attribution("The mayor", "said", "the toll would be scrapped by June")
    write_polnear(root, "test", "toll", test_text, tb)
    write_checkthat(root)
    write_newssd(root)
    write_babe(root)
    return str(root)


def by_text(records):
    return {r["text"]: r for r in records}


# --------------------------------------------------------------------------- lexicons

def test_cue_lexicon():
    for cue in ("said", "says", "told reporters", "according to", "has said", "announced", "tweeted",
                "said in a statement", "testified", "acknowledged", "pointed out", "warns"):
        assert cue_qualifies(cue), cue
    for cue in ("believes", "thinks", "wants", "hopes", "expects", "plans", "fears", "feels",
                "would say", "did not say", "declined to say", "wasn't saying", ":", "called", "in"):
        assert not cue_qualifies(cue), cue


def test_source_kinds():
    assert source_kind("Port director Mira Solberg") == "named"
    assert source_kind("Ana Ortiz, an expert on harbours,") == "named"  # vague word in an apposition
    assert source_kind("the harbour board's spokeswoman") == "role"
    assert source_kind("the ministry") == "role"
    for vague in ("critics", "some residents", "officials", "experts", "a spokesman",
                  "people familiar with the talks", "Harbour Board sources", "I", "you"):
        assert source_kind(vague) is None, vague
    assert source_kind("he", context="Port director Mira Solberg spoke first.") == "pronoun"
    assert source_kind("he", context="It rained. The roads were closed.") is None
    assert source_kind("who", before="The plan was backed by Mira Solberg, ") == "pronoun"


def test_vague_sources():
    for vague in ("critics", "officials", "sources", "experts", "analysts", "some", "many", "others",
                  "some residents", "many people", "a senior official", "one source", "the source",
                  "people familiar with the talks", "a person close to the mayor",
                  "Officials, speaking on condition of anonymity",
                  "officials familiar with Mayor Ortiz's plans", "Harbour Board sources", "legal experts"):
        assert vague_source(vague), vague
    assert vague_source("Senior officials", opens_sentence=True)
    for not_vague in ("the campaign", "the White House", "a spokesman for the ministry", "a spokesman",
                      "Mayor Ana Ortiz", "Pentagon officials", "campaign officials", "his aides",
                      "Ortiz's advisers", "the official", "those experts", "Democrats", "voters",
                      "46 percent of voters", "two-thirds of harbour insiders", "I", "you", "we",
                      "Harbour Insider", "the Harbour Times, citing people familiar with the talks",
                      "other councillors, like Ana Ortiz and Ben Lee", "the poll"):
        assert not vague_source(not_vague), not_vague
    assert not vague_source("Senior officials")  # mid-sentence "Senior" is capitalised for a reason
    assert not vague_source("Pentagon officials", opens_sentence=True)


def test_impersonal_cues():
    for cue in ("it is said", "was reported", "It\u2019s been reported", "it was revealed", "is said",
                "reportedly", "allegedly", "I was told", "has been described"):
        assert impersonal_cue(cue), cue
    for cue in ("said", "saying", "adding", "asked", "was asked", "was announced", "is accused of",
                "was declared", "has been denied", "would be said", "to be said", "there have been no reported",
                "is described in the Harbour Times", "believed", "is believed"):
        assert not impersonal_cue(cue), cue


# --------------------------------------------------------------------------- PolNeAR

def test_polnear_sentences_and_labels(synth):
    recs = load_polnear("train", synth)
    by = by_text(recs)
    spans = split_sentences(ARTICLE)
    sentences = [ARTICLE[a:b] for a, b in spans]
    for r in recs:
        assert validate_record(r, "x") == {k: v for k, v in r.items() if k not in ("_where", "article")}
        # the document model reads the article's real sentences, also those that are no records
        assert r["article"] == sentences and r["article"][r["i"]] == r["text"]
        assert ARTICLE[r["start"]:r["end"]] == r["text"]
        assert spans[r["i"]] == (r["start"], r["end"])
        assert r["doc"] == "ferry-fares"
        assert r["_where"].endswith(f"ferry-fares.txt:{r['start']}")
    # some sentences are no records (ambiguous ones are left out), yet the document read is the whole article
    assert len(recs) < len(spans)
    documents, where = documents_from_records(recs)
    assert documents == [sentences] and where == [(0, r["i"]) for r in recs]

    # headline (first line) is a sentence; no attribution -> neutral or unattributed
    title = by["Ferry fares to rise in spring"]
    assert title["i"] == 0 and title["label"] is None and title["allowed"] == NONE and title["gold"] == "none"
    assert by["The harbour board raised ferry fares by 8 percent on Monday."]["allowed"] == NONE
    assert by["The first new boat is due in May."]["gold"] == "none"

    # speech cue with a named source
    att = by["Port director Mira Solberg said the increase would pay for two new boats."]
    assert att["label"] == "attributed_statement" and att["allowed"] == ["attributed_statement"]
    assert att["gold"] == "attributed"
    assert att["source"]["text"] == "Port director Mira Solberg" and att["cue"]["text"] == "said"
    assert att["text"][att["cue"]["start"]:att["cue"]["end"]] == "said"

    # quote split over two sentences: both attributed, the continuation has no source/cue in it
    first = by["\u201cWe have waited ten years for this,\u201d Solberg added."]
    assert first["label"] == "attributed_statement" and first["source"]["text"] == "Solberg"
    cont = by["\u201cThe old boats are falling apart and the crews deserve better.\u201d"]
    assert cont["label"] == "attributed_statement" and cont["source"] is None and cont["cue"] is None

    # pronoun source with a named antecedent nearby
    she = by["She told reporters the board would review prices next year."]
    assert she["label"] == "attributed_statement" and she["source"]["text"] == "She" and she["cue"]["text"] == "told"

    # vague source with a speech cue: a definite rule-3 unattributed claim
    critics = by["Critics say the fares will drive visitors away."]
    assert (critics["label"], critics["allowed"], critics["gold"]) == ("unattributed_claim", ["unattributed_claim"], "vague_source")
    assert critics["source"] is None and critics["cue"] is None

    # belief cue, unannotated speech cue: ambiguous, left out by default
    for text in ("Residents believe the fares are already too high.",
                 "A spokesman said the timetable is unchanged."):
        assert text not in by


def test_polnear_ambiguous_on_request(synth):
    recs = by_text(load_polnear("train", synth, include_ambiguous=True))
    belief = recs["Residents believe the fares are already too high."]
    assert belief["label"] is None and belief["allowed"] == ALL and belief["gold"] == "ambiguous"
    assert recs["Critics say the fares will drive visitors away."]["gold"] == "vague_source"
    assert recs["A spokesman said the timetable is unchanged."]["gold"] == "ambiguous"
    assert len(recs) == len(split_sentences(ARTICLE))


def test_polnear_pronoun_without_name_is_ambiguous(synth):
    recs = by_text(load_polnear("dev", synth, include_ambiguous=True))
    assert recs["He said the roads were closed."]["gold"] == "ambiguous"
    assert recs["It rained all week."]["gold"] == "none"
    assert "He said the roads were closed." not in by_text(load_polnear("dev", synth))


def test_polnear_uses_first_annotator_file(synth):
    # the later file ("..._zz99.ann") has no attributions; had it been used, nothing would be attributed
    labels = [r["label"] for r in load_polnear("train", synth)]
    assert labels.count("attributed_statement") == 4


@pytest.fixture
def vague_synth(tmp_path):
    root = tmp_path / "data"
    write_polnear(root, "train", "ferry-contract", VAGUE_ARTICLE, vague_brat())
    return str(root)


def test_polnear_vague_sources(vague_synth, tmp_path):
    recs = load_polnear("train", vague_synth)
    every = by_text(load_polnear("train", vague_synth, include_ambiguous=True))
    assert len(every) == len(split_sentences(VAGUE_ARTICLE))
    by = by_text(recs)
    for text in VAGUE_SENTENCES:
        r = by[text]
        assert (r["label"], r["allowed"], r["gold"]) == ("unattributed_claim", ["unattributed_claim"], "vague_source"), text
        assert r["source"] is None and r["cue"] is None
        assert validate_record(r, "x") == {k: v for k, v in r.items() if k not in ("_where", "article")}
        assert r["article"][r["i"]] == r["text"] and len(r["article"]) == len(every)
    for text in NOT_VAGUE_SENTENCES:
        assert text not in by and every[text]["gold"] == "ambiguous", text
    # a named source wins over the vague one it quotes (rule 8)
    both = by["Critics say the plan is too costly, Mayor Ana Ortiz told the council."]
    assert both["gold"] == "attributed" and both["source"]["text"] == "Mayor Ana Ortiz"
    assert by["Ferry contract in doubt"]["gold"] == "none"
    golds = [r["gold"] for r in recs]
    assert golds.count("vague_source") == len(VAGUE_SENTENCES) and golds.count("attributed") == 1
    # without the named part the same sentence would be a vague-source claim
    no_lee = Brat(VAGUE_ARTICLE)
    no_lee.attribution(("officials", "but officials"), ("said", "but officials said"),
                       "the contract would lapse unless the board found new money by June")
    write_polnear(tmp_path / "other", "train", "ferry-contract", VAGUE_ARTICLE, no_lee)
    assert by_text(load_polnear("train", str(tmp_path / "other")))[NOT_VAGUE_SENTENCES[-1]]["gold"] == "vague_source"


def test_polnear_vague_quote_too_short_is_ambiguous(tmp_path):
    text = ("Critics say it is bad, but the harbour board approved the long-delayed plan for two new "
            "ferries, a larger pier and a bus link in a vote on Monday evening.\n")
    b = Brat(text)
    b.attribution("Critics", "say", "it is bad")
    write_polnear(tmp_path / "data", "train", "short", text, b)
    recs = load_polnear("train", str(tmp_path / "data"), include_ambiguous=True)
    assert [r["gold"] for r in recs] == ["ambiguous"]


def test_polnear_bad_split(synth):
    with pytest.raises(ValueError, match="dev_test"):
        load_polnear("dev_test", synth)


# --------------------------------------------------------------------------- CheckThat! / NewsSD / BABE

def test_checkthat_mapping(synth):
    train = load_checkthat("train", synth)
    assert [r["doc"] for r in train] == ["t-1", "t-2", "t-3", "t-4"]
    obj, subj, quoted = train[0], train[1], train[2]
    assert obj["label"] is None and obj["allowed"] == OBJ and obj["gold"] == "OBJ"
    assert subj["label"] == "unattributed_claim" and subj["allowed"] == ["unattributed_claim"] and subj["gold"] == "SUBJ"
    assert quoted["text"] == 'The final match drew a "record" crowd of 40,000.'  # CSV quoting undone, spaces collapsed
    assert len(load_checkthat("dev_test", synth)) == 2  # file without the solved_conflict column
    assert obj["_where"].endswith("train_en.tsv:2")


def test_newssd_dedup_against_checkthat(synth):
    recs = load_newssd(synth)
    assert [r["text"] for r in recs] == ["A new footbridge links the two villages.", "What a dreadful idea this tax is."]
    assert recs[0]["allowed"] == OBJ and recs[1]["label"] == "unattributed_claim"
    assert recs[0]["doc"] == "newssd-train-2"


def test_babe_reuters_split(synth):
    train, held = load_babe("train", synth), load_babe("heldout", synth)
    assert [r["text"] for r in train] == [BABE_ROWS[0][0], BABE_ROWS[1][0]]
    assert train[0]["allowed"] == OBJ and train[0]["gold"] == "Entirely factual"
    assert train[1]["label"] == "unattributed_claim" and train[1]["gold"] == "Expresses writer\u2019s opinion"
    assert [r["text"] for r in held] == [BABE_ROWS[4][0], BABE_ROWS[5][0]]
    assert held[1]["label"] == "unattributed_claim" and held[1]["doc"].startswith("babe-SG2-")
    assert held[0]["doc"] == "https://example.org/e"


def test_trainable_records_exclude_held_out(synth):
    recs = trainable_records(synth)
    texts = {text_key(r["text"]) for r in recs}
    held = {text_key(r["text"]) for r in
            load_polnear("test", synth, include_ambiguous=True) + load_checkthat("dev_test", synth) + load_babe("heldout", synth)}
    assert held and not texts & held
    assert text_key("The orchard harvest began on Tuesday.") not in texts  # leaked train copy dropped
    assert text_key(BABE_ROWS[0][0]) in texts and text_key("The council approved the new cycle lanes.") in texts
    assert len(texts) == len(recs)
    assert HELD_OUT == {"polnear": "test", "checkthat": "dev_test", "babe": "heldout"}


def test_trainable_records_name_their_corpus_and_can_keep_dev_out(synth):
    recs = trainable_records(synth)
    assert {r["corpus"] for r in recs} == {"polnear", "checkthat", "newssd", "babe"}
    dev = load_polnear(TUNING_SETS["polnear"], synth, include_ambiguous=True) + load_checkthat(TUNING_SETS["checkthat"], synth)
    dev_keys = {text_key(r["text"]) for r in dev}
    assert dev_keys & {text_key(r["text"]) for r in recs}  # by default the dev splits are trained on
    tuned = trainable_records(synth, keep_dev_out=True)
    assert tuned and not dev_keys & {text_key(r["text"]) for r in tuned}
    assert {r["_where"] for r in tuned} < {r["_where"] for r in recs}  # nothing new comes in


# --------------------------------------------------------------------------- missing data

def test_missing_root_names_path_and_env_var(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as err:
        load_checkthat("train", str(missing))
    assert str(missing) in str(err.value) and "STANCELIB_DATA" in str(err.value)
    monkeypatch.setenv("STANCELIB_DATA", str(missing))
    with pytest.raises(FileNotFoundError, match="STANCELIB_DATA"):
        load_babe("train")


def test_missing_corpus_folder(tmp_path):
    (tmp_path / "babe").mkdir()
    with pytest.raises(FileNotFoundError) as err:
        load_polnear("train", str(tmp_path))
    assert os.path.join("polnear", "data", "train") in str(err.value)


def test_root_from_env(synth, monkeypatch):
    monkeypatch.setenv("STANCELIB_DATA", synth)
    assert len(load_checkthat("dev")) == 2


# --------------------------------------------------------------------------- the real corpora

needs_data = pytest.mark.shared_data


@pytest.fixture(scope="module")
def real():
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"real corpora not found at {SHARED_DATA}")
    return os.path.abspath(SHARED_DATA)


@pytest.fixture(scope="module")
def loaded(real):
    """Every split loaded once for the module (PolNeAR takes a few seconds)."""
    return {
        "polnear": {s: load_polnear(s, real) for s in ("train", "dev", "test")},
        "checkthat": {s: load_checkthat(s, real) for s in ("train", "dev", "dev_test")},
        "newssd": load_newssd(real),
        "babe": {s: load_babe(s, real) for s in ("train", "heldout")},
    }


def all_records(loaded):
    for corpus, splits in loaded.items():
        for recs in (splits.values() if isinstance(splits, dict) else [splits]):
            yield from recs


@needs_data
def test_real_every_record_validates(loaded):
    n = 0
    for rec in all_records(loaded):
        assert validate_record(rec, rec["_where"]) == {k: v for k, v in rec.items() if k not in ("_where", "article")}
        assert rec["gold"] is not None and rec["allowed"]
        n += 1
    assert n > 20000
    for recs in loaded["polnear"].values():  # every PolNeAR record carries its article's sentences
        for rec in recs:
            assert rec["article"][rec["i"]] == rec["text"], rec["_where"]


@needs_data
def test_real_checkthat_counts(loaded):
    ct = loaded["checkthat"]
    assert (len(ct["train"]), len(ct["dev"]), len(ct["dev_test"])) == (830, 462, 484)
    for recs in ct.values():
        for r in recs:
            assert (r["gold"], r["allowed"]) in [("SUBJ", ["unattributed_claim"]), ("OBJ", OBJ)]
    assert sum(r["gold"] == "SUBJ" for r in ct["dev_test"]) > 50


@needs_data
def test_real_newssd_is_deduplicated(loaded, real):
    ct = {text_key(r["text"]) for recs in loaded["checkthat"].values() for r in recs}
    keys = [text_key(r["text"]) for r in loaded["newssd"]]
    assert not set(keys) & ct and len(keys) == len(set(keys))
    raw = 0
    for name in ("train", "val", "test"):
        with open(os.path.join(real, "newssd-eng", "data", "english", f"{name}.csv"), encoding="utf-8", newline="") as f:
            raw += sum(1 for _ in csv.DictReader(f))
    assert raw > 1000 and len(keys) < raw


@needs_data
def test_real_babe_heldout_is_reuters_only(loaded, real):
    outlet = {}
    with open(os.path.join(real, "babe", "data", "final_labels_SG2.csv"), encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            outlet.setdefault(text_key(row["text"]), set()).add(row["outlet"].strip())
    held, train = loaded["babe"]["heldout"], loaded["babe"]["train"]
    assert len(held) > 500 and len(train) > 1500
    assert all(outlet[text_key(r["text"])] == {"Reuters"} for r in held)
    assert all("Reuters" not in outlet[text_key(r["text"])] for r in train)
    assert {r["label"] for r in train} == {None, "unattributed_claim"}


def read_brat_attributions(ann_path, text):
    """[(kind, source segments, cue text, content segments)] of a brat file (a minimal reader for checks)."""
    spans, events = {}, []
    with open(ann_path, encoding="utf-8-sig") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0].startswith("T") and len(parts) > 1:
                segs = [tuple(map(int, seg.split())) for seg in parts[1].split(" ", 1)[1].split(";")]
                spans[parts[0]] = segs
            elif parts[0].startswith("E") and len(parts) > 1:
                args = parts[1].split()
                roles = {}
                for arg in args[1:]:
                    role, _, ref = arg.partition(":")
                    roles.setdefault(role.rstrip("0123456789"), []).extend(spans.get(ref, []))
                events.append((args[0].split(":")[0], roles))
    return [(kind, sorted(r.get("Source", [])), " ".join(text[a:b] for a, b in sorted(r.get("Cue", []))),
             sorted(r.get("Content", []))) for kind, r in events]


@needs_data
def test_real_polnear_has_attributed_and_none(loaded, real):
    for split, recs in loaded["polnear"].items():
        golds = [r["gold"] for r in recs]
        assert golds.count("attributed") > 300 and golds.count("none") > 300, split
        assert golds.count("vague_source") > (100 if split == "train" else 10), split
        assert "ambiguous" not in golds
        attributed = [r for r in recs if r["label"] == "attributed_statement"]
        assert sum(r["source"] is not None for r in attributed) > len(attributed) / 2
    # offsets point into the article
    for r in loaded["polnear"]["dev"][:300]:
        path = r["_where"].rsplit(":", 1)[0]
        with open(path, encoding="utf-8", newline="") as f:
            assert f.read()[r["start"]:r["end"]] == r["text"]


@needs_data
def test_real_polnear_vague_sources_are_not_named(loaded, real):
    """Every train vague_source sentence rests on a vague or missing source, never on a named one."""
    vague = [r for r in loaded["polnear"]["train"] if r["gold"] == "vague_source"]
    assert len(vague) > 100
    texts, atts = {}, {}
    for r in vague:
        assert (r["label"], r["allowed"], r["source"], r["cue"]) == ("unattributed_claim", ["unattributed_claim"], None, None)
        path = r["_where"].rsplit(":", 1)[0]
        if path not in texts:
            with open(path, encoding="utf-8", newline="") as f:
                texts[path] = f.read()
            name = os.path.basename(path)[: -len(".txt")]
            ann_dir = os.path.join(os.path.dirname(os.path.dirname(path)), "attributions")
            ann = sorted(f for f in os.listdir(ann_dir) if f.rsplit("_", 1)[0] == name and f.endswith(".ann"))[0]
            atts[path] = read_brat_attributions(os.path.join(ann_dir, ann), texts[path])
        text, s, e = texts[path], r["start"], r["end"]
        # attributions with a speech cue (or, without a source, an agentless one) whose Content is in the sentence
        speech = [(" ".join(text[a:b] for a, b in src), cue) for kind, src, cue, con in atts[path]
                  if kind.startswith("Attribution") and any(a < e and b > s for a, b in con)
                  and (cue_qualifies(cue) if src else impersonal_cue(cue))]
        sources = [x for x, _ in speech if x]
        # no such attribution has a named source ...
        assert not [x for x in sources if source_kind(x) == "named"], r["_where"]
        # ... and at least one has a clearly vague source or none at all
        assert any(vague_source(x, o) for x in sources for o in (False, True)) or any(not x for x, _ in speech), r["_where"]


@needs_data
def test_real_trainable_records_hold_out_every_held_out_text(real):
    train = trainable_records(real)
    held = {text_key(r["text"]) for r in
            load_polnear("test", real, include_ambiguous=True) + load_checkthat("dev_test", real) + load_babe("heldout", real)}
    keys = [text_key(r["text"]) for r in train]
    assert len(keys) > 20000 and len(set(keys)) == len(keys)
    assert not set(keys) & held
    golds = {r["gold"] for r in train}
    assert {"attributed", "none", "SUBJ", "OBJ", "Entirely factual"} <= golds
