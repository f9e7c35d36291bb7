import numpy as np

from stancelib.spans import FALLBACK, TAG2ID, decode, span_scores, token_tags


def test_token_tags_bio():
    # "The ministry said 40" with word offsets, plus [CLS] and [SEP]
    offsets = [(0, 0), (0, 3), (4, 12), (13, 17), (18, 20), (0, 0)]
    spans = {"source": {"start": 0, "end": 12, "text": "The ministry"}, "cue": {"start": 13, "end": 17, "text": "said"}}
    assert token_tags(offsets, spans) == [-100, TAG2ID["B-SOURCE"], TAG2ID["I-SOURCE"], TAG2ID["B-CUE"], TAG2ID["O"], -100]
    assert token_tags(offsets, {"source": None, "cue": None}) == [-100, 0, 0, 0, 0, -100]


def test_decode_picks_the_best_run_and_maps_to_characters():
    text = "The ministry said 40"
    offsets = [(0, 0), (0, 3), (4, 12), (13, 17), (18, 20), (0, 0)]
    probs = np.full((6, 5), 0.01)
    for k, tag in [(1, "B-SOURCE"), (2, "I-SOURCE"), (3, "B-CUE"), (4, "O")]:
        probs[k, TAG2ID[tag]] = 0.96
    probs[0, 0] = probs[5, 0] = 0.96
    out = decode(probs, offsets, text)
    assert out["source"] == {"start": 0, "end": 12, "text": "The ministry"}
    assert out["cue"] == {"start": 13, "end": 17, "text": "said"}
    assert decode(np.eye(5)[[0, 0, 0]], [(0, 0), (0, 3), (0, 0)], "Yes")["source"] is None


def _probs(rows):
    """Tag probabilities from {tag: p} rows (the rest of each row's mass on O)."""
    out = np.zeros((len(rows), 5))
    for k, row in enumerate(rows):
        for tag, p in row.items():
            out[k, TAG2ID[tag]] = p
        out[k, TAG2ID["O"]] += 1 - out[k].sum()
    return out


def test_decode_reads_the_kind_not_the_bio_split_and_keeps_a_run_through_a_dip():
    text = "The Pollinator Institute said"
    offsets = [(0, 0), (0, 3), (4, 14), (15, 24), (25, 29), (0, 0)]
    probs = _probs([{}, {"B-SOURCE": 0.9},
                    {"B-SOURCE": 0.3, "I-SOURCE": 0.3},  # B and I share the mass: still a source piece
                    {"I-SOURCE": 0.4},                   # below O, but the run goes on (CONTINUE)
                    {"B-CUE": 0.9}, {}])
    out = decode(probs, offsets, text)
    assert out["source"]["text"] == "The Pollinator Institute" and out["cue"]["text"] == "said"
    # a piece that is neither likely source nor continuing one ends the run; the best mean wins
    probs[3] = _probs([{"I-SOURCE": 0.1}])[0]
    assert decode(probs, offsets, text)["source"]["text"] == "The Pollinator"


def test_decode_widens_to_whole_words_and_drops_edge_commas():
    text = "volcanology center, said"
    # word pieces "volcano" "##logy" "center" "," "said"
    offsets = [(0, 0), (0, 7), (7, 11), (12, 18), (18, 19), (20, 24), (0, 0)]
    probs = _probs([{}, {}, {"B-SOURCE": 0.9}, {"I-SOURCE": 0.9}, {"I-SOURCE": 0.5}, {"B-CUE": 0.9}, {}])
    assert decode(probs, offsets, text)["source"] == {"start": 0, "end": 18, "text": "volcanology center"}


def test_decode_drops_a_dangling_last_word_but_keeps_according_to():
    text = "Teresa Holm, who said at the time"
    offsets = [(0, 0), (0, 6), (7, 11), (11, 12), (13, 16), (17, 21), (22, 24), (25, 28), (29, 33), (0, 0)]
    probs = _probs([{}, {"B-SOURCE": 0.9}, {"I-SOURCE": 0.9}, {"I-SOURCE": 0.4}, {"I-SOURCE": 0.3},
                    {"B-CUE": 0.9}, {"I-CUE": 0.3}, {"I-CUE": 0.3}, {}, {}])
    out = decode(probs, offsets, text)
    assert out["source"]["text"] == "Teresa Holm" and out["cue"]["text"] == "said"
    text = "according to the ministry"
    offsets = [(0, 0), (0, 9), (10, 12), (13, 16), (17, 25), (0, 0)]
    probs = _probs([{}, {"B-CUE": 0.9}, {"I-CUE": 0.9}, {}, {"B-SOURCE": 0.9}, {}])
    assert decode(probs, offsets, text)["cue"]["text"] == "according to"


def test_decode_falls_back_on_the_likeliest_piece_where_none_beats_outside():
    text = "Ms. Varga has ruled out raising tax"
    offsets = [(0, 0), (0, 3), (4, 9), (10, 13), (14, 19), (20, 23), (24, 31), (32, 35), (0, 0)]
    weak = FALLBACK + 0.05
    probs = _probs([{}, {"B-SOURCE": weak}, {"I-SOURCE": weak + 0.1}, {"B-CUE": 0.9}, {"I-CUE": 0.9},
                    {"I-CUE": 0.9}, {}, {}, {}])
    out = decode(probs, offsets, text)
    assert out["source"]["text"] == "Ms. Varga" and out["cue"]["text"] == "has ruled out"
    # below FALLBACK nothing is a source
    probs[1:3] = _probs([{"B-SOURCE": FALLBACK / 2}, {"I-SOURCE": FALLBACK / 2}])
    assert decode(probs, offsets, text)["source"] is None


def test_span_scores_exact_and_overlap():
    g = [{"start": 0, "end": 12}, {"start": 5, "end": 9}, None, {"start": 0, "end": 2}]
    p = [{"start": 0, "end": 12}, {"start": 4, "end": 9}, {"start": 1, "end": 2}, None]
    s = span_scores(g, p)
    assert s["n_gold"] == 3 and s["n_predicted"] == 3
    assert s["exact"]["precision"] == 1 / 3 and s["exact"]["recall"] == 1 / 3
    assert s["overlap"]["f1"] == 2 / 3
