"""PolNeAR -> :func:`load_polnear`: attribution spans mapped onto sentences.

Files: ``polnear/data/<split>/text/<name>.txt`` and
``polnear/data/<split>/attributions/<name>_<annotator>.ann`` (brat stand-off;
offsets are Python string indices into the ``.txt``). Some articles have several
annotator files; **only the first in sorted file-name order is used** (the
annotators disagree in places and mixing them would double-count). Each article
is split with :func:`stancelib.sentences.split_sentences` (a title line is a
sentence of its own, rule 5); ``doc`` is the article name, ``i`` the sentence
index, ``start``/``end`` offsets into the article, ``where`` is
``<txt path>:<start offset>``.

An attribution (a brat ``E`` event) has Source, Cue and Content spans (``Content2``
counts as Content; discontinuous spans are kept segment by segment). It
*qualifies* when it has all three and

* its **Cue** is a speech or report cue: one of the cue's words is an inflected
  form of a verb in :data:`SPEECH_LEMMAS` (say, tell, write, add, ask, note,
  report, announce, state, tweet, claim, confirm, deny, warn, insist, argue,
  explain, testify, acknowledge, admit, promise, find, show, ... ) or the cue
  contains a phrase of :data:`SPEECH_PHRASES` ("according to", "in a statement",
  "point out", ...), **and** none of its words is a form of a belief, intention,
  perception or refusal verb (:data:`BELIEF_LEMMAS`: think, believe, want, hope,
  expect, fear, plan, seem, decline, refuse, ...) or a modal or negation
  (:data:`BLOCKING_WORDS`: would, could, will, not, never, ...). Cues outside
  both lists (a colon, "called", "criticized", "praised", a preposition, ...)
  do not qualify either: the lexicon errs on the side of precision;
* its **Source** is identifiable (:func:`source_kind`): it names no vague,
  generic or anonymous source (:data:`VAGUE_WORDS`: some, many, critics,
  experts, sources, officials, analysts, people, voters, Democrats, ...;
  "familiar with", "condition of anonymity", ...), and it either contains a
  capitalised word that is not a function word, day or month (a named entity:
  "Mayor Ortiz", "the Hallam Institute"), or is one of the pronouns he, she,
  they, it, we (or his, her, its, their) **and** a capitalised name occurs in
  the same sentence, the three sentences before it or the one after it
  (LABELS.md rule 11: a stand-in for coreference; a "name" here is a
  capitalised word other than a function word, pronoun, day or month, and a
  word that opens a sentence counts only when the next word is capitalised
  too, "Mira Solberg said"), or is the relative pronoun "who" with such a
  name earlier in the same sentence, or is a noun
  phrase whose words include a body or role noun (:data:`ROLE_NOUNS`: the
  campaign, the ministry, the poll, the company, her spokesman, ...) and that
  does not start with "a", "an", "one" or "another". "I" and "you" never
  qualify (the writer's own voice or unclear). Attributions without a Source
  (brat ``Attribution-no-source``) never qualify.

A sentence is **attributed** (``label: attributed_statement``, gold
``"attributed"``) when its main content lies in qualifying attributions, that is

* (A) the Content spans of qualifying attributions cover at least half of the
  sentence's non-space characters (this also makes the continuation of a quote
  that lies wholly inside a Content span attributed, rule 12), or
* (B) the sentence overlaps the Cue and the Content of one qualifying attribution,
  and that attribution's Source, Cue and Content spans together cover at least
  half of the sentence's non-space characters ("X said on Monday that ..." with
  a long time phrase or a long source description).

Such a record keeps ``source`` and ``cue`` (offsets into the sentence, each the
extent of its span, discontinuous spans included) from one qualifying
attribution: the one whose Content covers most of the sentence among those whose
Source and Cue both lie wholly inside it, else the one covering most. A span
that does not lie wholly inside the sentence is ``None`` (a quote continuation
has neither).

A sentence that is not attributed is a **vague-source claim** (``label:
unattributed_claim``, ``allowed: [unattributed_claim]``, gold ``"vague_source"``;
LABELS.md rule 3: "officials, speaking on condition of anonymity, said",
"sources said", "critics argue") when its main content lies, by the same tests
(A) and (B), in *vague* attributions. An attribution is vague when

* it has Source, Cue and Content, its Cue qualifies as above, its Source is not
  identifiable (it does not qualify) and :func:`vague_source` finds it *clearly*
  vague or anonymous. That test is stricter than the one that rejects a source:

  - an anonymity marker (:data:`ANONYMOUS_WORDS`: sources, insiders, anonymous,
    unnamed, ...; or a phrase "familiar with", "close to", "condition of
    anonymity", "not authorized", ...) makes it vague: "a source close to the
    campaign", "people familiar with the talks", "Pentagon sources",
    "officials familiar with Mr. Lee's plans";
  - otherwise a source tied to something identifiable is *not* vague: one with
    a name anywhere in it ("Pentagon officials", "Republican aides", "other
    Republicans, like Ann Lee"), a possessive ("his aides", "Lee's advisers") or
    a body or role noun (:data:`ROLE_NOUNS`: "campaign officials", "a spokesman
    for the ministry", "the White House" qualify or stay ambiguous; so does a
    bare "a spokesman", which may speak on the record);
  - an untied source is vague when its head (the part before the first comma)
    holds a vague person noun (:data:`VAGUE_PEOPLE`: critics, experts,
    analysts, observers, officials, aides, advisers, people, someone, others,
    economists, ...) and does not start with "the", "this", "these", "those"
    (anaphoric: "the official" may point back to a named one), or a group noun
    (:data:`VAGUE_GROUPS`: voters, Democrats, Republicans, residents, ...) with a
    quantifier ("some Democrats", "many voters"; bare "Democrats" or "voters"
    are not vague), or is just "some", "many" or "others";
  - a source with a digit, a percentage, a fraction ("two-thirds of insiders"),
    a poll word or "I", "you", "we" is never vague (poll results and the
    writer's voice are not rule 3);

* or it has no Source at all (brat ``Attribution-no-source``) and its Cue is an
  agentless report (:func:`impersonal_cue`): a qualifying cue with a finite
  passive of say, report, reveal, describe, claim, allege, suggest, estimate,
  predict or tell ("it was reported that", "is said to", "it was revealed",
  "I was told"), or "reportedly" / "allegedly"; with no name in the cue
  ("is described in the Harbour Times") and no negation or modal. Other sourceless cues
  are not rule 3 and stay ambiguous: questions ("asked"), participles whose
  subject is named elsewhere in the sentence ("..., saying", "adding"), and
  passives of acts and events ("was announced the winner", "is accused of",
  "was declared", "has been denied");

and in both cases its Content is not a direct quote (it does not open with a
quotation mark): rules 6 and 13 make a vague speaker's *direct* quote of a plain
event ``neutral_report``, which PolNeAR cannot tell apart. A sentence that is
attributed (tests A or B with an identifiable source) stays attributed even when it
also holds a vague attribution (rule 8); one that is touched by any qualifying
attribution without being attributed ("Lee said ..., but officials said ...",
with the officials' part the longer) is ambiguous, never a vague-source record.
A vague-source record has no ``source`` or ``cue``.

A sentence that touches **no** Source, Cue, Content or other brat span at all is
``label: None``, ``allowed: [neutral_report, unattributed_claim]``, gold
``"none"`` (PolNeAR cannot tell a neutral report from an unsourced claim),
*unless* it contains an unannotated speech cue (a word of the form said, says,
told, according to, ... as listed in :data:`UNANNOTATED_CUES`): such sentences
are most likely attributions the annotator missed and are treated as ambiguous.

Sentences with no letter at all (separator lines, bare numbers, time stamps)
are dropped. Every other sentence (touched only by non-qualifying attributions: beliefs,
intentions, sources that are neither identifiable nor clearly vague, missing
sources with a non-impersonal cue, vague speakers' direct quotes, quotes that
cover less than half of it,
the annotators' ``Discuss``/``Discard`` marks) is **ambiguous**: it is left out
unless ``include_ambiguous=True``, and then has ``allowed`` = all three labels
and gold ``"ambiguous"``.

Known losses: neutral vs. unattributed is never decided for untouched
sentences; the vague-source test is a word list and errs on the side of
precision, so many rule-3 sentences stay ambiguous (skipped, not mislabelled):
anonymous people of a named body without an anonymity marker ("U.S. officials
said", "a White House official", "Clinton aides"), "the official" and other
anaphoric sources, bare groups ("Democrats said"), vague speakers' direct
quotes, pronouns that point back to a vague source ("they said" after
"critics"), vague sources with a belief cue ("some analysts believe", rule 3
too) and sourceless cues other than agentless passives; and it can err the
other way: an unnamed "official" whom the article names earlier, a generic
"others" or "many" after named speakers, or "media sources" meaning outlets,
becomes a vague-source record. Sentences with
beliefs or with only partly-covering quotes are skipped; the
lexicons miss unusual cues (those sentences are skipped, not mislabelled);
the pronoun test is a heuristic and can accept a pronoun with no named
antecedent; a second annotator's attributions are ignored.
"""

from __future__ import annotations

import bisect
import glob
import os
import re

from ..data import DataError
from ..sentences import split_sentences
from .common import ALL_ALLOWED, NONE_ALLOWED, _POLNEAR_SPLITS, _check_split, _need, _record, data_root
from .lexicon import UNANNOTATED_CUES, _opens_sentence, _words, cue_qualifies, impersonal_cue, source_kind, vague_source

_T_LINE = re.compile(r"^(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)(?:\t|$)")
_E_LINE = re.compile(r"^(E\d+)\t(.*)$")


def _read_ann(path: str, text_len: int):
    """Parse a brat file: (``{T id: (type, [(start, end), ...])}``, events, line numbers)."""
    spans: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    events = []
    with open(path, encoding="utf-8-sig") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = _T_LINE.match(line)
            if m:
                segs = []
                for seg in m.group(3).split(";"):
                    a, b = map(int, seg.split())
                    if not 0 <= a <= b <= text_len:
                        raise DataError(f"{path}:{lineno}: span {a}-{b} lies outside the text ({text_len} characters)")
                    if a < b:
                        segs.append((a, b))
                spans[m.group(1)] = (m.group(2), segs)
                continue
            m = _E_LINE.match(line)
            if m:
                args = m.group(2).split()
                if not args:
                    continue
                trigger_type, _, trigger = args[0].partition(":")
                roles: dict[str, list[str]] = {}
                for arg in args[1:]:
                    role, _, ref = arg.partition(":")
                    roles.setdefault(re.sub(r"\d+$", "", role), []).append(ref)
                events.append((trigger_type, trigger, roles, lineno))
            # other lines: notes (#), relations, or continuation lines of a multi-line span text
    return spans, events


class _Attribution:
    __slots__ = ("kind", "source", "cue", "content", "touch", "qualifies", "vague")

    def __init__(self, kind, source, cue, content, touch):
        self.kind, self.source, self.cue, self.content, self.touch = kind, source, cue, content, touch
        self.qualifies = False  # speech cue, identifiable source: attributed
        self.vague = False  # speech cue, clearly vague or anonymous source, or agentless report: rule 3


def _overlap(segs, s, e) -> bool:
    return any(a < e and b > s for a, b in segs)


def _inside(segs, s, e) -> bool:
    return bool(segs) and all(s <= a and b <= e for a, b in segs)


def _cover(mask: list[bool], segs, s: int) -> None:
    n = len(mask)
    for a, b in segs:
        for k in range(max(a - s, 0), min(b - s, n)):
            mask[k] = True


def _covered(text: str, s: int, e: int, segs) -> tuple[int, int]:
    """(non-space characters of text[s:e] covered by segs, non-space characters of text[s:e])."""
    mask = [False] * (e - s)
    _cover(mask, segs, s)
    total = covered = 0
    for k, ch in enumerate(text[s:e]):
        if not ch.isspace():
            total += 1
            covered += mask[k]
    return covered, total


def _polnear_dir(split: str, root: str | None) -> str:
    _check_split(split, _POLNEAR_SPLITS, "PolNeAR")
    base = os.path.join(data_root(root), "polnear", "data", split)
    _need(os.path.join(base, "text"))
    _need(os.path.join(base, "attributions"))
    return base


def _polnear_files(base: str) -> list[tuple[str, str, str]]:
    """(article name, text path, ann path) using the first annotator file in sorted order."""
    chosen: dict[str, str] = {}
    for ann in sorted(glob.glob(os.path.join(base, "attributions", "*.ann"))):
        name = os.path.basename(ann)[: -len(".ann")].rsplit("_", 1)[0]
        chosen.setdefault(name, ann)
    out = []
    for name in sorted(chosen):
        txt = os.path.join(base, "text", name + ".txt")
        out.append((name, _need(txt), chosen[name]))
    return out


def _main_attribution(text: str, s: int, e: int, candidates: list[_Attribution]):
    """The attribution that carries the main content of ``text[s:e]`` (tests A and B), else ``None``.

    Returns ``(main, ranked)``: ``ranked`` is ``candidates`` by decreasing Content coverage.
    """
    if not candidates:
        return None, []
    covered, total = _covered(text, s, e, [seg for a in candidates for seg in a.content])
    ranked = sorted(candidates, key=lambda a: -_covered(text, s, e, a.content)[0])
    if 2 * covered >= total:
        return ranked[0], ranked
    for a in ranked:
        if _overlap(a.cue, s, e) and _overlap(a.content, s, e):
            c, t = _covered(text, s, e, a.source + a.cue + a.content)
            if 2 * c >= t:
                return a, ranked
    return None, ranked


_QUOTE_MARKS = "\"\u201c\u201d\u2018'`"


def _direct_quote(text: str, content) -> bool:
    """Is a Content span a direct quote (it opens with a quotation mark)?"""
    return bool(content) and text[content[0][0]:content[0][1]].lstrip()[:1] in _QUOTE_MARKS


def polnear_article(text: str, ann_path: str, name: str, txt_path: str = "", include_ambiguous: bool = False) -> list[dict]:
    """Sentence records of one PolNeAR article (``text``) given its brat file."""
    spans, events = _read_ann(ann_path, len(text))
    sentences = split_sentences(text)
    starts = [s for s, _ in sentences]

    def sentence_of(pos: int) -> int:
        return max(bisect.bisect_right(starts, pos) - 1, 0)

    attributions = []
    in_event = set()
    for trigger_type, trigger, roles, _lineno in events:
        def segs(role):
            out = []
            for ref in roles.get(role, []):
                if ref in spans:
                    out.extend(spans[ref][1])
                    in_event.add(ref)
            return sorted(out)
        source, cue, content = segs("Source"), segs("Cue"), segs("Content")
        touch = source + cue + content + (spans[trigger][1] if trigger in spans else [])
        in_event.add(trigger)
        attributions.append(_Attribution(trigger_type, source, cue, content, touch))
    # spans outside any event (Discuss / Discard marks, orphan spans) also make a sentence ambiguous
    loose = [seg for tid, (_type, sg) in spans.items() if tid not in in_event for seg in sg]

    for att in attributions:
        if not att.kind.startswith("Attribution") or not att.cue or not att.content:
            continue
        cue_text = " ".join(text[a:b] for a, b in att.cue)
        if not att.source:
            # no source at all: rule 3 only for an agentless report ("it was reported that ...")
            att.vague = impersonal_cue(cue_text) and not _direct_quote(text, att.content)
            continue
        if att.kind != "Attribution" or not cue_qualifies(cue_text):
            continue
        src_start, src_end = att.source[0][0], att.source[-1][1]
        src_text = " ".join(text[a:b] for a, b in att.source)
        k = sentence_of(src_start)
        ctx_s = sentences[max(k - 3, 0)][0]
        ctx_e = sentences[min(k + 1, len(sentences) - 1)][1]
        context = text[ctx_s:src_start] + " " + text[src_end:ctx_e]
        before = text[sentences[k][0]:src_start]
        att.qualifies = source_kind(src_text, context, before) is not None
        att.vague = not att.qualifies and vague_source(src_text, _opens_sentence(text, src_start)) \
            and not _direct_quote(text, att.content)

    # index attributions and loose spans by the sentences they may touch
    near: list[list[_Attribution]] = [[] for _ in sentences]
    for att in attributions:
        if att.touch:
            for k in range(sentence_of(min(a for a, _ in att.touch)), sentence_of(max(b for _, b in att.touch) - 1) + 1):
                near[k].append(att)
    records = []
    for i, (s, e) in enumerate(sentences):
        touching = [a for a in near[i] if _overlap(a.touch, s, e)]
        sent = text[s:e]
        if not any(ch.isalpha() for ch in sent):
            continue  # separators, bare numbers and time stamps ("___", "3.") are not sentences
        where = f"{txt_path or ann_path}:{s}"
        base = {"text": sent, "doc": name, "i": i, "start": s, "end": e}
        main, scored = _main_attribution(text, s, e, [a for a in touching if a.qualifies])
        if main is not None:
            # prefer, among the qualifying attributions, one whose source and cue lie in the sentence
            for a in scored:
                if _inside(a.source, s, e) and _inside(a.cue, s, e) and _overlap(a.content, s, e):
                    main = a
                    break
            raw = base | {"label": "attributed_statement", "allowed": ["attributed_statement"], "gold": "attributed"}
            for key, sg in (("source", main.source), ("cue", main.cue)):
                if _inside(sg, s, e):
                    raw[key] = {"start": sg[0][0] - s, "end": sg[-1][1] - s}
            records.append(_record(raw, where))
            continue
        if not scored and _main_attribution(text, s, e, [a for a in touching if a.vague])[0] is not None:
            # rule 3: the main content comes from a vague or anonymous source, and no identifiable
            # source has a part in the sentence (one that does makes it attributed above or ambiguous)
            raw = base | {"label": "unattributed_claim", "allowed": ["unattributed_claim"], "gold": "vague_source"}
            records.append(_record(raw, where))
            continue
        untouched = not touching and not _overlap(loose, s, e)
        if untouched and not ({w.lower() for w in _words(sent)} & UNANNOTATED_CUES):
            records.append(_record(base | {"label": None, "allowed": list(NONE_ALLOWED), "gold": "none"}, where))
        elif include_ambiguous:
            records.append(_record(base | {"label": None, "allowed": list(ALL_ALLOWED), "gold": "ambiguous"}, where))
    # the document model reads the article's real neighbours (the records skip some sentences):
    # each record carries the article's sentences (one shared list) and its index ``i`` in them
    texts = [text[s:e] for s, e in sentences]
    for rec in records:
        rec["article"] = texts
    return records


def load_polnear(split: str, root: str | None = None, include_ambiguous: bool = False) -> list[dict]:
    """PolNeAR sentences of ``split`` (train, dev or test; test is held out)."""
    base = _polnear_dir(split, root)
    records = []
    for name, txt, ann in _polnear_files(base):
        with open(txt, encoding="utf-8", newline="") as f:
            text = f.read()
        records.extend(polnear_article(text, ann, name, txt, include_ambiguous))
    return records
