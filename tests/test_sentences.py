from hypothesis import given, settings
from hypothesis import strategies as st

from stancelib.sentences import split_sentences


def texts(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_news_abbreviations_and_quotes():
    text = (
        "Dark forces at work in the U.N. debate\n\n"
        "Mr. Smith met Dr. J. R. Castellan at 9:30 a.m. on Monday. Growth was 3.5 percent. "
        "\"We are ready,\" she said. \"Are you ready?\" she asked. The U.S. envoy left. "
        "\"It will end soon.\" He left at 5 p.m. The talks resume on Friday.\n"
        "- first bullet\n- second bullet"
    )
    assert texts(text) == [
        "Dark forces at work in the U.N. debate",
        "Mr. Smith met Dr. J. R. Castellan at 9:30 a.m. on Monday.",
        "Growth was 3.5 percent.",
        "\"We are ready,\" she said.",
        "\"Are you ready?\" she asked.",
        "The U.S. envoy left.",
        "\"It will end soon.\"",
        "He left at 5 p.m.",
        "The talks resume on Friday.",
        "- first bullet",
        "- second bullet",
    ]


def test_empty_and_blank():
    assert split_sentences("") == [] and split_sentences(" \n\t ") == []


def test_type_error():
    import pytest

    with pytest.raises(TypeError):
        split_sentences(None)


_pieces = st.sampled_from([
    "Mr.", "U.N.", "a.m.", "3.5", "said.", "\"Yes.\"", "Who?", "The", "minister", "wrote", "\n", "\n\n",
    "  ", " ", "J.", "e.g.", "!", "...", "x", "Dr", "U.S.", "He", "\u201cQuote.\u201d", "\t",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=40).map(" ".join))
def test_offsets_are_exact_and_nothing_is_lost(text):
    spans = split_sentences(text)
    pos = 0
    for start, end in spans:
        assert pos <= start < end <= len(text)
        assert text[pos:start].strip() == ""  # only whitespace between sentences
        piece = text[start:end]
        assert piece == piece.strip() and "\n" not in piece
        pos = end
    assert text[pos:].strip() == ""
    assert "".join(text[s:e] for s, e in spans).replace(" ", "").replace("\t", "") == "".join(text.split())


def test_has_text_ignores_white_space_control_and_format_characters():
    from stancelib.sentences import has_text

    for blank in ("", "   \n\t", "\x00\x07\x1b", "\u200b\u200e", "\ufeff \x00"):
        assert not has_text(blank), repr(blank)
    for text in ("a", " \x00 .", "政府", "🚀", "\u00a0x"):
        assert has_text(text), repr(text)
