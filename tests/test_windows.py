"""Packing sentences into windows (stancelib.windows): the rules of the module docstring.

Most tests use synthetic documents (sentence lengths in tokens, markers included) whose
expected windows were worked out by hand; the tokenizer tests use the packaged tokenizer.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stancelib.windows import (EncodedDocument, Window, batches, best_windows, build_windows, documents_from_records,
                               encode_documents, pad_batch, spans_of)

CLS, SEP, PIECE = 101, 102, 7


def synthetic(lengths):
    """An encoded document whose sentence ``j`` takes ``lengths[j]`` tokens with its markers."""
    ids = [[PIECE + j] * (n - 2) for j, n in enumerate(lengths)]
    return EncodedDocument(ids, [[(0, 1)] * len(x) for x in ids])


def window(doc, first, lengths):
    """A window built by hand: sentences ``first, first+1, ...`` of ``lengths`` tokens each."""
    ids, markers, pieces = [], [], []
    for n in lengths:
        markers.append(len(ids))
        pieces.append((len(ids) + 1, len(ids) + n - 1))
        ids += [CLS] + [PIECE] * (n - 2) + [SEP]
    return Window(doc, first, ids, markers, pieces)


def check_spans(lengths, window_tokens, overlap, spans):
    """The rules every ``spans_of`` result obeys (shared by the examples and the property test)."""
    n = len(lengths)
    if n == 0:
        assert spans == []
        return
    assert spans[0][0] == 0 and spans[-1][1] == n
    covered = set()
    for k, (first, end) in enumerate(spans):
        assert first < end
        covered.update(range(first, end))
        used = sum(lengths[first:end])
        # at most window_tokens tokens, unless the window is one over-long sentence
        assert used <= window_tokens or end - first == 1
        # greedy: the next sentence did not fit
        assert end == n or used + lengths[end] > window_tokens
        if k + 1 < len(spans):
            nxt = spans[k + 1][0]
            assert first < nxt <= end  # progress, and no sentence skipped
            starts = np.cumsum([0] + lengths[first:end - 1]).tolist()  # offset of each sentence in the window
            inside = [j for j, pos in zip(range(first, end), starts) if pos >= used - overlap]
            # the next window starts at the first sentence beginning in the last `overlap` tokens
            # (after the current one if none does; never at the current window's own first sentence)
            assert nxt == max(inside[0] if inside else end, first + 1)
            if overlap == 0:
                assert nxt == end
    assert covered == set(range(n))


# ---- spans_of -------------------------------------------------------------------------

def test_spans_without_overlap_are_a_greedy_partition():
    lengths = [5, 7, 3, 10, 4, 6]
    # 5+7+3 = 15 fits, +10 does not; 10+4 = 14 fits, +6 does not; 6 alone
    assert spans_of(lengths, 15) == [(0, 3), (3, 5), (5, 6)]
    assert spans_of(lengths, 15, overlap=0) == spans_of(lengths, 15)
    check_spans(lengths, 15, 0, spans_of(lengths, 15))
    assert spans_of(lengths, 100) == [(0, 6)]
    assert spans_of([], 15) == [] and spans_of([], 15, overlap=5) == []


def test_an_over_long_sentence_is_a_window_of_its_own():
    assert spans_of([3, 50, 3], 20) == [(0, 1), (1, 2), (2, 3)]
    assert spans_of([50], 20) == [(0, 1)]
    assert spans_of([4, 4, 50, 4, 4], 20, overlap=6) == [(0, 2), (1, 2), (2, 3), (3, 5)]
    check_spans([4, 4, 50, 4, 4], 20, 6, spans_of([4, 4, 50, 4, 4], 20, overlap=6))


def test_overlap_starts_at_the_first_sentence_in_the_last_overlap_tokens():
    lengths = [4] * 10  # sentence j begins at offset 4 * (j - first) of its window
    # a 16-token window holds 4 sentences at offsets 0, 4, 8, 12; the last 6 tokens (offsets >= 10)
    # hold the beginning of only the 4th sentence, the last 8 (>= 8) those of the 3rd and 4th
    assert spans_of(lengths, 16, overlap=6) == [(0, 4), (3, 7), (6, 10)]
    assert spans_of(lengths, 16, overlap=8) == [(0, 4), (2, 6), (4, 8), (6, 10)]
    assert spans_of(lengths, 16, overlap=4) == [(0, 4), (3, 7), (6, 10)]  # offset 12 >= 16 - 4
    assert spans_of(lengths, 16, overlap=3) == [(0, 4), (4, 8), (8, 10)]  # none begins at >= 13
    # uneven: window 10+3+3 = 16 (offsets 0, 10, 13), last 5 tokens are offsets >= 11
    assert spans_of([10, 3, 3, 10, 3], 20, overlap=5) == [(0, 3), (2, 5)]
    # no sentence begins in the last 5 tokens (offsets 0, 10 of 20): the next window starts after
    assert spans_of([10, 10, 10], 20, overlap=5) == [(0, 2), (2, 3)]
    for lengths, wt, ov in (([4] * 10, 16, 6), ([4] * 10, 16, 8), ([10, 3, 3, 10, 3], 20, 5), ([10, 10, 10], 20, 5)):
        check_spans(lengths, wt, ov, spans_of(lengths, wt, overlap=ov))


def test_a_huge_overlap_still_makes_progress():
    # the window's own first sentence begins in the last 19 tokens: the next window still moves on
    assert spans_of([18, 18, 18], 20, overlap=19) == [(0, 1), (1, 2), (2, 3)]
    assert spans_of([2] * 5, 4, overlap=3) == [(0, 2), (1, 3), (2, 4), (3, 5)]


@pytest.mark.parametrize("overlap", [-1, 16, 17, 1000])
def test_invalid_overlap_raises(overlap):
    with pytest.raises(ValueError, match="overlap"):
        spans_of([4, 4, 4], 16, overlap=overlap)


# ---- build_windows ----------------------------------------------------------------------

def test_markers_and_pieces_of_a_window(tokenizer):
    sentences = ["Rain fell on Monday.", "The ministry said 40 people were hurt.", "Critics say it failed."]
    docs = encode_documents(tokenizer, [sentences], 64)
    [win] = build_windows(docs, tokenizer.cls_token_id, tokenizer.sep_token_id, 128)
    assert (win.doc, win.first, win.sentences) == (0, 0, range(0, 3))
    # the window is the sentences' own [CLS] ... [SEP] inputs one after the other
    assert win.input_ids == [t for s in sentences for t in tokenizer(s)["input_ids"]]
    assert len(win.input_ids) == sum(docs[0].lengths())
    for k, (marker, (a, b)) in enumerate(zip(win.markers, win.pieces)):
        assert win.input_ids[marker] == tokenizer.cls_token_id
        assert (a, b) == (marker + 1, marker + 1 + len(docs[0].ids[k]))
        assert win.input_ids[a:b] == docs[0].ids[k]
        assert win.input_ids[b] == tokenizer.sep_token_id
        assert tokenizer.cls_token_id not in win.input_ids[a:b] and tokenizer.sep_token_id not in win.input_ids[a:b]
    assert win.markers[0] == 0 and all(win.markers[k + 1] == win.pieces[k][1] + 1 for k in range(2))


def test_windows_follow_spans_and_never_mix_documents():
    docs = [synthetic([5, 7, 3, 10, 4, 6]), synthetic([]), synthetic([8, 8])]
    windows = build_windows(docs, CLS, SEP, 15)
    assert [(w.doc, w.first, len(w.markers)) for w in windows] == [(0, 0, 3), (0, 3, 2), (0, 5, 1), (2, 0, 1), (2, 1, 1)]
    for w in windows:
        assert w.input_ids == [t for j in w.sentences for t in [CLS] + docs[w.doc].ids[j] + [SEP]]
        lengths = docs[w.doc].lengths()[w.first:w.first + len(w.markers)]
        assert w.markers == np.cumsum([0] + lengths[:-1]).tolist()
        # each sentence's pieces are its document's own ids
        for slot, j in enumerate(w.sentences):
            a, b = w.pieces[slot]
            assert w.input_ids[a:b] == docs[w.doc].ids[j]
    # sentences begin at offsets 0, 5, 12 of the first window (15 tokens): the last 8 hold sentence 2
    overlapping = build_windows(docs, CLS, SEP, 15, overlap=8)
    assert [(w.doc, w.first, len(w.markers)) for w in overlapping][:2] == [(0, 0, 3), (0, 2, 2)]


@pytest.mark.parametrize("text", [
    "Rain fell on Monday.",
    "\"We will rebuild,\" Mayor Ana Ortiz told reporters.",
    "Critics say the plan is doomed to fail. " * 20,  # cut at the end, as a lone string always was
    "",
])
@pytest.mark.parametrize("max_length", [16, 64])
def test_a_lone_sentence_is_exactly_the_tokenizers_input(tokenizer, text, max_length):
    docs = encode_documents(tokenizer, [[text]], max_length)
    [win] = build_windows(docs, tokenizer.cls_token_id, tokenizer.sep_token_id, max_length)
    assert win.input_ids == tokenizer(text, truncation=True, max_length=max_length)["input_ids"]
    assert win.markers == [0] and win.pieces == [(1, len(win.input_ids) - 1)]


# ---- best_windows -----------------------------------------------------------------------

def test_best_window_has_the_largest_smaller_context():
    windows = build_windows([synthetic([4] * 10)], CLS, SEP, 16, overlap=8)
    assert [(w.first, len(w.markers)) for w in windows] == [(0, 4), (2, 4), (4, 4), (6, 4)]
    best = best_windows(windows)
    # sentence 2: (before, after) = (8, 4) in window 0, (0, 12) in window 1 -> window 0;
    # sentence 3: (12, 0) in window 0, (4, 8) in window 1 -> the second window
    assert best == {(0, 0): (0, 0), (0, 1): (0, 1), (0, 2): (0, 2), (0, 3): (1, 1), (0, 4): (1, 2),
                    (0, 5): (2, 1), (0, 6): (2, 2), (0, 7): (3, 1), (0, 8): (3, 2), (0, 9): (3, 3)}


def test_the_smaller_side_counts_not_the_total():
    # sentence 2 (4 tokens): (before, after) = (20, 0) in the first window, (10, 2) in the second
    windows = [window(0, 0, [10, 10, 4]), window(0, 1, [10, 4, 2])]
    assert best_windows(windows)[(0, 2)] == (1, 1)


def test_on_a_tie_of_the_smaller_side_more_context_in_all_wins():
    # sentence 2: (4, 4) in the first window, (4, 6) in the second: both 4, the second has more
    windows = [window(0, 1, [4, 6, 4]), window(0, 1, [4, 6, 4, 2])]
    assert best_windows(windows)[(0, 2)] == (1, 1)
    assert best_windows(windows[::-1])[(0, 2)] == (0, 1)


def test_on_a_full_tie_the_earlier_window_wins():
    # sentence 2: (6, 4) in the first window, (4, 6) in the second: smaller side 4, 10 in all both
    windows = [window(0, 0, [2, 4, 8, 4]), window(0, 1, [4, 8, 4, 2])]
    assert best_windows(windows)[(0, 2)] == (0, 2)
    assert best_windows(windows[::-1])[(0, 2)] == (0, 1)  # the earlier in the list, whichever it is


def test_best_windows_keeps_documents_apart():
    windows = [window(0, 0, [4, 4]), window(1, 0, [4, 4, 4]), window(1, 2, [4, 4])]
    best = best_windows(windows)
    assert set(best) == {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (1, 3)}
    assert best[(0, 1)] == (0, 1) and best[(1, 1)] == (1, 1) and best[(1, 3)] == (2, 1)


# ---- batches and padding --------------------------------------------------------------

def check_batches(windows, plan, max_windows, max_tokens):
    flat = [k for batch in plan for k in batch]
    assert sorted(flat) == list(range(len(windows)))  # every window exactly once
    widths = [len(windows[k].input_ids) for k in flat]
    assert widths == sorted(widths)  # length-sorted
    for batch in plan:
        assert 1 <= len(batch) <= max_windows
        padded = len(batch) * max(len(windows[k].input_ids) for k in batch)
        assert padded <= max_tokens or len(batch) == 1


def test_batches_by_hand():
    windows = [window(0, 0, [n]) for n in (30, 10, 20, 10, 40)]
    # sorted: 10 (1), 10 (3), 20 (2), 30 (0), 40 (4); two windows at most, 60 padded tokens at most
    assert batches(windows, max_windows=2, max_tokens=60) == [[1, 3], [2, 0], [4]]
    check_batches(windows, batches(windows, 2, 60), 2, 60)
    # the token budget binds: 3 x 10 fits 40, a 50-token window goes alone although over budget
    windows = [window(0, 0, [n]) for n in (10, 10, 10, 50)]
    assert batches(windows, max_windows=8, max_tokens=40) == [[0, 1, 2], [3]]
    assert batches(windows, max_windows=8, max_tokens=1000) == [[0, 1, 2, 3]]
    assert batches([], 8, 100) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(2, 60), max_size=40), st.integers(1, 9), st.integers(2, 300))
def test_batches_property(widths, max_windows, max_tokens):
    windows = [window(0, k, [n]) for k, n in enumerate(widths)]
    check_batches(windows, batches(windows, max_windows, max_tokens), max_windows, max_tokens)


def test_pad_batch():
    windows = [window(0, 0, [4, 3]), window(0, 2, [5])]
    batch = pad_batch(windows, pad_id=0)
    assert batch["input_ids"].shape == (2, 7) and batch["input_ids"].dtype == np.int64
    assert batch["input_ids"][0].tolist() == windows[0].input_ids
    assert batch["input_ids"][1].tolist() == windows[1].input_ids + [0, 0]
    assert batch["attention_mask"].tolist() == [[1] * 7, [1] * 5 + [0, 0]]
    assert not batch["token_type_ids"].any()


# ---- documents_from_records -----------------------------------------------------------

def test_records_group_by_doc_in_i_order():
    records = [{"doc": "A", "i": 2, "text": "A two."}, {"doc": "B", "i": 1, "text": "B one."},
               {"doc": "A", "i": 0, "text": "A zero."}, {"doc": "B", "i": 0, "text": "B zero."},
               {"doc": "A", "i": 1, "text": "A one."}]
    documents, where = documents_from_records(records)
    assert documents == [["A zero.", "A one.", "A two."], ["B zero.", "B one."]]
    assert where == [(0, 2), (1, 1), (0, 0), (1, 0), (0, 1)]
    # gaps without an article close up: the document is the records' sentences in i order
    documents, where = documents_from_records([{"doc": "C", "i": 5, "text": "Five."}, {"doc": "C", "i": 0, "text": "Zero."}])
    assert documents == [["Zero.", "Five."]] and where == [(0, 1), (0, 0)]


def test_records_without_doc_or_i_stand_alone():
    records = [{"text": "Alone."}, {"doc": "A", "i": 0, "text": "A zero."}, {"doc": None, "i": None, "text": "Alone."},
               {"doc": "A", "text": "No index."}, {"i": 1, "text": "No doc."}, {"doc": "A", "i": 1, "text": "A one."}]
    documents, where = documents_from_records(records)
    assert documents[0] == ["A zero.", "A one."]
    assert sorted(documents[1:]) == sorted([["Alone."], ["Alone."], ["No index."], ["No doc."]])
    assert len({where[k] for k in (0, 2, 3, 4)}) == 4  # one document each, even for the same text
    for rec, (d, j) in zip(records, where):
        assert documents[d][j] == rec["text"]
    assert where[1] == (0, 0) and where[5] == (0, 1)
    assert documents_from_records([]) == ([], [])


def test_article_fills_the_sentences_that_are_no_records():
    article = ["Headline.", "Context one.", "Mine before.", "Context three.", "Last."]
    records = [{"doc": "P", "i": 3, "text": "Context three.", "article": article},
               {"doc": "P", "i": 0, "text": "Headline.", "article": article},  # one list for the article
               {"doc": "P", "i": 2, "text": "Mine.", "article": article},  # its own text wins
               {"doc": "Q", "i": 0, "text": "Other doc."}]
    documents, where = documents_from_records(records)
    assert documents == [["Headline.", "Context one.", "Mine.", "Context three.", "Last."], ["Other doc."]]
    assert where == [(0, 3), (0, 0), (0, 2), (1, 0)]
    # the own text wins whatever the order, also over an article carried by a later record
    documents, _ = documents_from_records([records[2] | {"article": None}, records[0]])
    assert documents == [["Headline.", "Context one.", "Mine.", "Context three.", "Last."]]
    # only one record carries the article: the document is still the whole article
    documents, where = documents_from_records([{"doc": "P", "i": 4, "text": "Last.", "article": article},
                                               {"doc": "P", "i": 1, "text": "Context one."}])
    assert documents == [article] and where == [(0, 4), (0, 1)]


def test_blank_article_sentences_are_left_out():
    article = ["One.", "", "Three.", "   ", "Five."]
    documents, where = documents_from_records([{"doc": "P", "i": 4, "text": "Five.", "article": article}])
    assert documents == [["One.", "Three.", "Five."]] and where == [(0, 2)]


# ---- encode_documents -----------------------------------------------------------------

def test_encode_documents_keeps_the_document_structure(tokenizer):
    docs = [["Rain fell on Monday.", "Critics say it failed."], [], ["The ministry said 40 people were hurt."]]
    encoded = encode_documents(tokenizer, docs, 64)
    assert [len(e.ids) for e in encoded] == [2, 0, 1] and [len(e.offsets) for e in encoded] == [2, 0, 1]
    for doc, enc in zip(docs, encoded):
        for text, ids, offsets in zip(doc, enc.ids, enc.offsets):
            assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
            assert len(offsets) == len(ids) and enc.lengths()[doc.index(text)] == len(ids) + 2
            # offsets point at each piece's characters (the tokenizer lowercases)
            for piece, (a, b) in zip(tokenizer.convert_ids_to_tokens(ids), offsets):
                assert text[a:b].lower() == piece.removeprefix("##")
    assert encode_documents(tokenizer, [], 64) == []
    assert [e.ids for e in encode_documents(tokenizer, [[], []], 64)] == [[], []]
    assert encode_documents(tokenizer, [[""]], 64)[0].lengths() == [2]


def test_encode_documents_cuts_long_sentences(tokenizer):
    long = "The harbour board raised ferry fares by eight percent on Monday. " * 20
    [enc] = encode_documents(tokenizer, [[long, "Rain fell."]], 64)
    full = tokenizer(long, add_special_tokens=False)["input_ids"]
    assert len(full) > 62 and enc.ids[0] == full[:62] and enc.lengths() == [64, 5]
    assert enc.ids[1] == tokenizer("Rain fell.", add_special_tokens=False)["input_ids"]


def test_a_huge_sentence_does_not_raise(tokenizer):
    huge = "The ministry said. " * 6000
    assert len(huge) == 114_000
    [enc] = encode_documents(tokenizer, [["Before.", huge, "After."]], 64)
    assert enc.lengths() == [4, 64, 4]
    assert enc.ids[1] == tokenizer(huge, add_special_tokens=False, truncation=True, max_length=62)["input_ids"]
    windows = build_windows([enc], tokenizer.cls_token_id, tokenizer.sep_token_id, 128, overlap=32)
    assert all(len(w.input_ids) <= 128 for w in windows)
    assert set(best_windows(windows)) == {(0, 0), (0, 1), (0, 2)}


# ---- properties -----------------------------------------------------------------------

@st.composite
def layouts(draw):
    window_tokens = draw(st.integers(2, 80))
    overlap = draw(st.integers(0, window_tokens - 1))
    docs = draw(st.lists(st.lists(st.integers(2, 100), max_size=25), min_size=1, max_size=3))
    return docs, window_tokens, overlap


@settings(max_examples=300, deadline=None)
@given(layouts())
def test_windows_property(layout):
    docs, window_tokens, overlap = layout
    for lengths in docs:
        check_spans(lengths, window_tokens, overlap, spans_of(lengths, window_tokens, overlap))
        partition = spans_of(lengths, window_tokens)
        assert [j for a, b in partition for j in range(a, b)] == list(range(len(lengths)))
    windows = build_windows([synthetic(lengths) for lengths in docs], CLS, SEP, window_tokens, overlap)
    best = best_windows(windows)
    assert set(best) == {(d, j) for d, lengths in enumerate(docs) for j in range(len(lengths))}
    for (d, j), (w, slot) in best.items():
        win = windows[w]
        assert win.doc == d and win.sentences[slot] == j  # the chosen window contains the sentence
        assert win.input_ids[win.markers[slot]] == CLS

        def score(k):
            other = windows[k]
            s = other.sentences.index(j)
            before = other.markers[s]
            after = len(other.input_ids) - other.pieces[s][1] - 1
            return min(before, after), before + after

        holding = [k for k, other in enumerate(windows) if other.doc == d and j in other.sentences]
        top = max(score(k) for k in holding)
        assert score(w) == top and w == min(k for k in holding if score(k) == top)
