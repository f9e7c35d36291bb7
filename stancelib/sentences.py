"""Sentence splitting with exact character offsets, tuned for news copy.

``split_sentences(text)`` returns ``(start, end)`` spans such that
``text[start:end]`` is a sentence with no surrounding whitespace; only
whitespace lies between spans, so no text is ever lost. Line breaks always end
a sentence (headlines, bullet lines); within a line a sentence ends at
``.``, ``?`` or ``!`` (plus closing quotes or brackets) followed by whitespace
and something that can start a sentence, unless the period belongs to an
abbreviation (Mr., U.N., a.m., J.), a number or an ellipsis.
"""

from __future__ import annotations

import re
import unicodedata


def has_text(s: str) -> bool:
    """Whether ``s`` holds anything to label: a character that is neither white space nor a
    control, format or unassigned code point (Unicode category C*). The tokenizer drops those, so
    a string of nothing else ("\\x00\\x07", a lone zero-width space) is blank, like "   ", and gets
    no label rather than the label of an empty window."""
    return any(not ch.isspace() and not unicodedata.category(ch).startswith("C") for ch in s)

# Titles and other abbreviations that are followed by a name or number, not a sentence break.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "cmdr",
    "adm", "maj", "cpl", "pvt", "st", "mt", "ft", "jr", "sr", "rev", "hon", "pres", "supt", "insp",
    "det", "messrs", "mmes", "no", "nos", "vs", "v", "etc", "inc", "ltd", "co", "corp", "bros", "dept",
    "est", "approx", "fig", "vol", "ch", "art", "sec", "ave", "blvd", "rd", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "cf", "al",
}
# Abbreviations that routinely end a sentence too ("... at 9 a.m. The meeting ..."):
# they break only before a word that usually starts a sentence.
_SENTENCE_FINAL_ABBREVIATIONS = {"a.m", "p.m", "etc", "inc", "ltd", "co", "corp", "jr", "sr"}
_STARTERS = {
    "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "this", "that", "these", "those",
    "there", "his", "her", "its", "their", "our", "in", "on", "at", "but", "and", "however", "after",
    "before", "when", "while", "as", "if", "some", "many", "most", "officials", "police", "critics",
}
_TERMINAL = re.compile(r"[.?!]+[\"'\u201d\u2019)\]]*")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_OPENERS = "\"'\u201c\u2018([-\u2014\u2013*\u2022"


def _is_abbreviation(text: str, dot: int, next_word: str) -> bool:
    """Does the period at ``text[dot]`` belong to an abbreviation (so no sentence break)?"""
    # look back a bounded window only: searching from 0 made long articles quadratic
    m = _WORD_BEFORE.search(text, max(0, dot - 64), dot)
    if not m:
        return False
    word = m.group(1).lower()
    bare = word.rstrip(".")
    if bare in _SENTENCE_FINAL_ABBREVIATIONS or (len(bare) > 2 and "." in bare and bare.replace(".", "").isalpha()):
        # a.m., p.m., Inc., U.S.A. and the like: a break only before a usual sentence opener
        return next_word.lower() not in _STARTERS
    if bare in _ABBREVIATIONS:
        return True
    # single initials ("J. R. Castellan") and dotted acronyms ("U.N.", "U.S.")
    if len(bare) == 1 and m.group(1)[0].isupper():
        return True
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", bare):
        return next_word.lower() not in _STARTERS
    return False


def _line_spans(text: str, start: int, end: int):
    """Sentence spans within one line ``text[start:end]``."""
    pos = start
    for m in _TERMINAL.finditer(text, start, end):
        stop = m.end()
        if stop >= end:
            break
        if not text[stop].isspace():
            continue  # 3.5, U.N.'s, "word."-- : no whitespace after the mark
        nxt = stop
        while nxt < end and text[nxt].isspace():
            nxt += 1
        if nxt >= end:
            break
        ch = text[nxt]
        if not (ch.isupper() or ch.isdigit() or ch in _OPENERS):
            continue  # '"Ready?" she asked.' : lower-case continuation
        if m.group(0).startswith("...") and not ch.isupper():
            continue
        if m.group(0)[0] == "." and _is_abbreviation(text, m.start(), re.match(r"[\w']*", text[nxt:end].lstrip(_OPENERS)).group(0)):
            continue
        yield pos, stop
        pos = nxt
    if pos < end:
        yield pos, end


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (see the module docstring)."""
    if not isinstance(text, str):
        raise TypeError(f"split_sentences expects a string, got {type(text).__name__}")
    spans = []
    for line in re.finditer(r"[^\n]+", text):
        start, end = line.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            for s, e in _line_spans(text, start, end):
                while e > s and text[e - 1].isspace():
                    e -= 1
                spans.append((s, e))
    return spans
