"""Adapters from the real news corpora in ``../shared/data`` to stancelib sentence records.

None of the four corpora uses our three labels (``../shared/LABELS.md``), so each
adapter applies a documented, lossy mapping and returns *partial* labels where the
corpus can only narrow the label down: ``label: None`` plus ``allowed: [...]`` (see
:mod:`stancelib.data`). Every record is passed through
:func:`stancelib.data.validate_record` with ``where = "<file>:<line or offset>"``
and comes back in canonical form, with that ``where`` kept as ``_where`` (as
:func:`stancelib.data.read_records` does). The corpus's own label is kept in
``gold``.

**Licences forbid copying the corpora into the project.** This module only reads
them; nothing here (code, docstrings, tests) contains or caches their text.

Where the data lives
--------------------
Every public function takes ``root``, the folder that holds ``polnear/``,
``checkthat2025-subjectivity-en/``, ``newssd-eng/`` and ``babe/``. When ``root``
is ``None`` it is the environment variable ``STANCELIB_DATA`` or, failing that,
``../shared/data`` relative to the current directory. A missing folder or file
raises :class:`FileNotFoundError` naming the path and how to point stancelib at it.

Held-out splits (:data:`HELD_OUT`) are for evaluation only:
PolNeAR ``test``, CheckThat! ``dev_test`` and BABE ``heldout`` (outlet Reuters).
:func:`trainable_records` never returns them, nor any sentence whose text
(lower-cased, whitespace collapsed) also occurs in one of them; it also keeps
one copy of a repeated text and drops a text whose copies disagree on
``allowed``. The dev splits (:data:`TUNING_SETS`: PolNeAR ``dev``, CheckThat!
``dev``) are what a recipe is tuned on; ``trainable_records(keep_dev_out=True)``
leaves them out of training for that.

PolNeAR -> :func:`load_polnear`
-------------------------------
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

CheckThat! 2025 task 1 (English) -> :func:`load_checkthat`
----------------------------------------------------------
Files: ``checkthat2025-subjectivity-en/task1/data/english/{train_en,dev_en,dev_test_en}.tsv``
(tab separated, CSV quoting, header ``sentence_id sentence label [solved_conflict]``).
``SUBJ`` -> ``label: unattributed_claim``; ``OBJ`` -> ``label: None``,
``allowed: [neutral_report, attributed_statement]``. ``gold`` is ``"SUBJ"`` or
``"OBJ"``, ``doc`` the ``sentence_id``; whitespace runs in the text are collapsed
to one space. Known losses: an objective sentence may be neutral or attributed;
SUBJ covers subjective *tone* (opinion, loaded words, sarcasm), which is a claim
in the writer's voice, but a subjective sentence inside a quote with a named
speaker would be ``attributed_statement`` in our scheme (mapped wrongly; rare).

NewsSD-ENG -> :func:`load_newssd`
---------------------------------
Files: ``newssd-eng/data/english/{train,val,test}.csv`` (columns ``Sentence``,
``Label``, ``Solved conflict``; sentences contain embedded newlines). Same
mapping as CheckThat!, whitespace collapsed, ``doc`` is ``newssd-<file>-<row>``.
Most sentences are also in CheckThat!, so a row is **dropped** when its text
(lower-cased, whitespace collapsed) occurs in any CheckThat! split (train, dev
or dev_test) and when it repeats an earlier NewsSD row. The NewsSD splits are
all trainable: no NewsSD file is held out. In the snapshot in ``../shared/data``
this leaves **no row at all**: NewsSD train + val are exactly CheckThat! train
and NewsSD test lies inside CheckThat! dev, with the same labels; the adapter
is kept so that a different NewsSD release is handled correctly.

BABE (SG2) -> :func:`load_babe`
-------------------------------
File: ``babe/data/final_labels_SG2.csv`` (``;`` separated, UTF-8 with BOM).
``train`` = rows whose ``outlet`` is not Reuters, ``heldout`` = rows whose
``outlet`` is Reuters. ``label_opinion`` (curly and straight apostrophes are
treated alike): "Expresses writer's opinion" -> ``unattributed_claim``;
"Entirely factual" -> ``label: None``, ``allowed: [neutral_report,
attributed_statement]``; "Somewhat factual but also opinionated" and "No
agreement" are dropped. ``gold`` is the ``label_opinion`` string as written in
the file, ``doc`` the ``news_link`` (the article; ``babe-SG2-<line>`` when the
link is empty), whitespace collapsed.
Known losses: the middle category is lost; "factual" sentences may still carry
a vague source. The Reuters held-out part is almost all "Entirely factual"
(one opinion row in the snapshot), so it measures false alarms of
``unattributed_claim`` rather than its recall.

Example::

    >>> recs = load_checkthat("train", root="/path/to/shared/data")  # doctest: +SKIP
    >>> recs[0]["label"], recs[0]["allowed"], recs[0]["gold"]      # doctest: +SKIP
    (None, ['neutral_report', 'attributed_statement'], 'OBJ')

An (invented) PolNeAR article "Mayor Ana Ortiz said the bridge will reopen in May.
Rain fell on Sunday." with one ``said`` attribution gives an ``attributed_statement``
record (source "Mayor Ana Ortiz", cue "said") and a ``none`` record for the
second sentence.
"""

from __future__ import annotations

import bisect
import csv
import glob
import os
import re
from typing import Iterable

from .data import MAX_CONTEXT_WINDOW, DataError, validate_record
from .sentences import split_sentences

ENV_VAR = "STANCELIB_DATA"
HELD_OUT = {"polnear": "test", "checkthat": "dev_test", "babe": "heldout"}
# the dev splits a recipe is tuned on (``trainable_records(keep_dev_out=True)`` leaves them out)
TUNING_SETS = {"polnear": "dev", "checkthat": "dev"}

NONE_ALLOWED = ["neutral_report", "unattributed_claim"]
OBJ_ALLOWED = ["neutral_report", "attributed_statement"]
ALL_ALLOWED = ["neutral_report", "attributed_statement", "unattributed_claim"]

_POLNEAR_SPLITS = ("train", "dev", "test")
_CHECKTHAT_SPLITS = ("train", "dev", "dev_test")
_NEWSSD_FILES = ("train", "val", "test")
_BABE_SPLITS = ("train", "heldout")


# --------------------------------------------------------------------------- paths

def data_root(root: str | None = None) -> str:
    """The corpora folder: ``root``, else ``$STANCELIB_DATA``, else ``../shared/data``."""
    if root is None:
        root = os.environ.get(ENV_VAR) or os.path.join("..", "shared", "data")
    path = os.path.abspath(root)
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"real-news corpora folder not found: {path} "
            f"(pass root=... or set the environment variable {ENV_VAR} to the folder that holds "
            f"polnear/, checkthat2025-subjectivity-en/, newssd-eng/ and babe/)"
        )
    return path


def _need(path: str) -> str:
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"corpus path not found: {path} "
            f"(pass root=... or set the environment variable {ENV_VAR} to the folder that holds the corpora)"
        )
    return path


def _check_split(split: str, allowed: tuple[str, ...], corpus: str) -> None:
    if split not in allowed:
        raise ValueError(f"unknown {corpus} split {split!r} (expected one of {', '.join(allowed)})")


def _norm(text: str) -> str:
    """Whitespace runs collapsed to one space, ends stripped."""
    return " ".join(text.split())


def text_key(text: str) -> str:
    """Key for duplicate detection: lower-cased, whitespace collapsed."""
    return _norm(text).lower()


def _record(raw: dict, where: str) -> dict:
    return validate_record(raw, where) | {"_where": where}


# --------------------------------------------------------------------------- lexicons

def _forms(lemma: str) -> set[str]:
    """Regular inflections of an English verb (irregular ones are added separately)."""
    forms = {lemma}
    if re.search(r"(s|x|z|ch|sh)$", lemma):
        forms.add(lemma + "es")
    elif re.search(r"[^aeiou]y$", lemma):
        forms.add(lemma[:-1] + "ies")
    else:
        forms.add(lemma + "s")
    if lemma.endswith("ee"):
        forms.update({lemma + "d", lemma + "ing"})
    elif lemma.endswith("e"):
        forms.update({lemma + "d", lemma[:-1] + "ing"})
    elif re.search(r"[^aeiou]y$", lemma):
        forms.update({lemma[:-1] + "ied", lemma + "ing"})
    else:
        forms.update({lemma + "ed", lemma + "ing"})
    return forms


SPEECH_LEMMAS = frozenset("""
say tell write add ask note report announce state tweet post claim confirm deny warn insist
argue explain testify acknowledge admit declare respond reply answer assert allege contend
stress emphasize emphasise remark comment mention reveal disclose predict estimate conclude
find show indicate suggest recall repeat reiterate concede boast complain accuse quote
promise pledge vow threaten proclaim inform quip joke shout yell exclaim email text tout
caution maintain observe speak cite continue describe
""".split())
_IRREGULAR = {
    "say": {"said"}, "tell": {"told"}, "write": {"wrote", "written"}, "speak": {"spoke", "spoken"},
    "find": {"found"}, "show": {"shown"}, "admit": {"admitted", "admitting"}, "quip": {"quipped", "quipping"},
    "plan": {"planned", "planning"}, "prefer": {"preferred", "preferring"},
    "think": {"thought"}, "know": {"knew", "known"}, "see": {"saw", "seen"}, "feel": {"felt"},
    "understand": {"understood"}, "seek": {"sought"}, "mean": {"meant"},
}
SPEECH_FORMS = frozenset(f for lemma in SPEECH_LEMMAS for f in _forms(lemma) | _IRREGULAR.get(lemma, set()))
# multi-word cues (matched on the lower-cased cue with whitespace collapsed)
SPEECH_PHRASES = (
    "according to", "in a statement", "in an interview", "in a letter", "in a post", "in remarks",
    "point out", "points out", "pointed out", "pointing out", "as quoted", "quoted as",
)

BELIEF_LEMMAS = frozenset("""
think believe want hope figure like expect feel fear plan know see seem appear wish prefer worry
doubt suspect assume intend seek try love hate consider imagine trust remember understand realize
realise decide aim need agree support oppose mean guess reckon suppose decline refuse
""".split())
BELIEF_FORMS = frozenset(f for lemma in BELIEF_LEMMAS for f in _forms(lemma) | _IRREGULAR.get(lemma, set()))
# modals and negation: hypothetical, future or negated speech is not a statement of content
BLOCKING_WORDS = frozenset("would could might may will shall should can must not n't never won't can't".split())

# unannotated cue words that make an otherwise untouched PolNeAR sentence ambiguous
UNANNOTATED_CUES = frozenset(
    _forms("say") | {"said", "told", "tells", "telling", "according", "announced", "announces",
                     "stated", "tweeted", "wrote", "writes", "reported", "reportedly", "added", "asked",
                     "claimed", "claims", "warned", "insisted", "argued", "explained", "noted",
                     "confirmed", "denied", "acknowledged", "admitted", "testified"}
)

PRONOUNS = frozenset({"he", "she", "they", "it", "we", "his", "her", "its", "their"})
RELATIVE_PRONOUNS = frozenset({"who"})
_INDEFINITE = frozenset({"a", "an", "one", "another"})
VAGUE_WORDS = frozenset("""
some many several few most others other critics critic experts expert sources source insiders
insider observers observer analysts analyst people person someone somebody anyone anybody everyone
everybody nobody officials official aides aide advisers advisors allies supporters opponents
residents witnesses voters americans democrats republicans conservatives liberals progressives
activists economists scientists researchers lawmakers members staffers anonymous anonymity
unnamed unidentified various numerous i you me us
""".split())
_VAGUE_PHRASES = ("familiar with", "close to", "condition of", "not authorized", "asked not", "declined to be")
ROLE_NOUNS = frozenset("""
campaign government administration ministry department agency police court company firm corporation
organization organisation group committee office council commission board party senate congress
house parliament legislature union association foundation institute university bank army military
newspaper network magazine outlet website station report study poll survey statement data analysis
memo letter lawsuit complaint filing document release ruling jury tribunal book article census
president governor senator candidate nominee spokesman spokeswoman spokesperson chairman chairwoman
chair director ceo secretary minister mayor judge prosecutor attorney lawyer sheriff chief
commissioner ambassador leader speaker manager founder author host anchor moderator justice
congressman congresswoman representative pollster
""".split())
_FUNCTION_WORDS = frozenset("""
the a an this that these those his her its their our my your he she it they we i you there but and or
in on at for with as if when while after before so yet still also however then now here what who why
how where of to from by about mr mrs ms dr
monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december
""".split())
_WORD = re.compile(r"[^\W\d_][\w'\u2019.-]*")


def _words(text: str) -> list[str]:
    return [w.rstrip(".").replace("\u2019", "'") for w in _WORD.findall(text)]


def cue_qualifies(cue: str) -> bool:
    """Is ``cue`` a speech/report cue (see the module docstring)?

    >>> cue_qualifies("told reporters"), cue_qualifies("believes"), cue_qualifies("would not say")
    (True, False, False)
    """
    low = _norm(cue).lower().replace("\u2019", "'")
    words = [w.lower() for w in _words(low)]
    pieces = set(words) | {p for w in words for p in w.split("'") if p}
    if "n't" in low or pieces & BLOCKING_WORDS or pieces & BELIEF_FORMS:
        return False
    return bool(pieces & SPEECH_FORMS) or any(p in low for p in SPEECH_PHRASES)


def _opens_sentence(text: str, pos: int) -> bool:
    """Does the word at ``text[pos]`` open a sentence (start, after a line break or after . ! ?)?"""
    k = pos
    while k > 0 and text[k - 1] in "\"'\u201c\u2018([":
        k -= 1
    if k == 0:
        return True
    if not text[k - 1].isspace():
        return False
    j = k
    while j > 0 and text[j - 1].isspace():
        j -= 1
    if j == 0 or "\n" in text[j:k]:
        return True
    while j > 0 and text[j - 1] in "\"'\u201d\u2019)]":
        j -= 1
    return j > 0 and text[j - 1] in ".!?"


def _has_name(text: str, skip_initial: bool = False) -> bool:
    """Does ``text`` contain a capitalised word that is not a function word, day or month?

    With ``skip_initial``, a word that opens a sentence counts only when the next
    word is capitalised too ("Lena Marsh said"), since any word is capitalised there.
    """
    matches = list(_WORD.finditer(text))
    for k, m in enumerate(matches):
        w = m.group(0).rstrip(".").replace("\u2019", "'")
        if not w[0].isupper() or w.lower().strip("'") in _FUNCTION_WORDS or w.lower() in PRONOUNS:
            continue
        if skip_initial and _opens_sentence(text, m.start()):
            nxt = matches[k + 1].group(0) if k + 1 < len(matches) else ""
            if not (nxt[:1].isupper() and text[m.end():matches[k + 1].start()].strip() == ""):
                continue
        return True
    return False


def source_kind(source: str, context: str = "", before: str = "") -> str | None:
    """Classify a Source span: ``"named"``, ``"role"``, ``"pronoun"`` or ``None`` (not identifiable).

    ``context`` is the text around the source (used for pronouns), ``before`` the
    text of its sentence before it (used for "who").

    >>> source_kind("Mayor Ana Ortiz"), source_kind("critics"), source_kind("the ministry")
    ('named', None, 'role')
    >>> source_kind("she", context="Dr. Lena Marsh spoke first."), source_kind("she")
    ('pronoun', None)
    """
    low = _norm(source).lower().replace("\u2019", "'")
    words = [w.lower() for w in _words(source)]
    if not words:
        return None
    # a vague word after a comma is an apposition of a named head ("Ana Ortiz, an expert on ...")
    head = source.split(",")[0] if _has_name(source.split(",")[0]) else source
    if {w.lower() for w in _words(head)} & VAGUE_WORDS or any(p in low for p in _VAGUE_PHRASES):
        return None
    if len(words) == 1 and words[0] in PRONOUNS:
        return "pronoun" if _has_name(context, skip_initial=True) else None
    if len(words) == 1 and words[0] in RELATIVE_PRONOUNS:
        return "pronoun" if _has_name(before, skip_initial=True) else None
    if _has_name(source):
        return "named"
    if words[0] in _INDEFINITE:
        return None
    if any(w in ROLE_NOUNS or (w.endswith("s") and w[:-1] in ROLE_NOUNS) for w in words):
        return "role"
    return None


# clearly vague or anonymous sources (LABELS.md rule 3), a strict subset of what source_kind rejects
ANONYMOUS_WORDS = frozenset("""
anonymous anonymity unnamed unidentified source sources insider insiders
""".split())
VAGUE_PEOPLE = frozenset("""
critics critic experts expert analysts analyst observers observer officials official aides aide
advisers adviser advisors advisor people person someone somebody others economists economist
scientists researchers strategists strategist staffers staffer commentators pundits
""".split())
VAGUE_GROUPS = frozenset("""
voters democrats republicans americans conservatives liberals progressives activists supporters
opponents allies residents witnesses lawmakers members
""".split())
QUANTIFIERS = frozenset("some many several few most other others various numerous".split())
# lower-case words that may open a vague source at the start of a sentence ("Senior officials said");
# any other capitalised word there is taken for a name ("Pentagon officials said")
_VAGUE_MODIFIERS = frozenset("""
senior top former current high-ranking longtime veteran legal political outside independent federal
local foreign military intelligence security law enforcement health medical economic government
two three four five six seven eight nine ten dozens
""".split())
_DEFINITE = frozenset("the these those this that".split())
_POSSESSIVES = frozenset("his her its their our my your".split())
_NOT_VAGUE = frozenset("""
i me my you your we us our self percent poll polls polling survey surveys surveyed respondents
majority majorities half third quarter
""".split())
# passive / impersonal report cues of an attribution without a source ("it was reported that ...")
IMPERSONAL_FORMS = frozenset("""
said told reported revealed described claimed alleged suggested estimated predicted
""".split())
_BE_FORMS = frozenset("is was were are been 's".split())  # finite passives, not "to be said"
SOURCELESS_ADVERBS = frozenset({"reportedly", "allegedly"})


def _is_name_word(word: str) -> bool:
    low = word.lower().strip("'")
    return word[:1].isupper() and low not in (
        _FUNCTION_WORDS | PRONOUNS | VAGUE_WORDS | VAGUE_PEOPLE | VAGUE_GROUPS | QUANTIFIERS | _INDEFINITE | ANONYMOUS_WORDS)


def vague_source(source: str, opens_sentence: bool = False) -> bool:
    """Is ``source`` a clearly vague or anonymous source (LABELS.md rule 3; see the module docstring)?

    ``opens_sentence``: the source is the first thing in its sentence, so its first
    word is capitalised anyway ("Senior officials said").

    >>> vague_source("critics"), vague_source("people familiar with the talks"), vague_source("a spokesman")
    (True, True, False)
    >>> vague_source("campaign officials"), vague_source("Ana Ortiz"), vague_source("the official")
    (False, False, False)
    """
    low = _norm(source).lower().replace("\u2019", "'")
    words = [w.replace("\u2019", "'") for w in _words(source)]
    lows = [w.lower() for w in words]
    if not words or re.search(r"\d|%|\w-thirds?\b|\w-in-\w", low) or set(lows) & _NOT_VAGUE:
        return False  # poll figures ("46 percent of voters", "two-thirds of insiders"), I / you / we

    def plain(ws):  # the lower-case words, and the first one ("Officials said"); "Harbour Insider" is a name
        return {w.lower() for k, w in enumerate(ws) if k == 0 or not w[:1].isupper()}

    anonymous = bool(plain(words) & ANONYMOUS_WORDS) or any(p in low for p in _VAGUE_PHRASES)
    head = _norm(source.split(",")[0])
    head_words = [w.replace("\u2019", "'") for w in _words(head)]
    head_lows = [w.lower() for w in head_words]
    names = [k for k, w in enumerate(words) if _is_name_word(w)
             and not (k == 0 and opens_sentence and w.lower() in _VAGUE_MODIFIERS)]
    # a name anywhere ("other Republicans, like Ann Lee,"), a possessive or a body ties the source down
    tied = (names or set(lows) & _POSSESSIVES or "'s" in low
            or any(w in ROLE_NOUNS or (w.endswith("s") and w[:-1] in ROLE_NOUNS) for w in lows))
    people = plain(head_words) & (VAGUE_PEOPLE | ANONYMOUS_WORDS)
    if tied:
        # "Pentagon officials", "his aides", "campaign officials" belong to an identifiable body;
        # only an explicit anonymity marker makes them vague ("officials familiar with Trump's plans")
        return anonymous and bool(people)
    if anonymous:
        return True
    if head_lows[0] in _DEFINITE:
        return False  # "the officials", "those experts": anaphoric, may point back to a named source
    if people:
        return True
    if set(head_lows) & VAGUE_GROUPS:
        return bool(set(head_lows) & QUANTIFIERS)  # "some Democrats", not "Democrats" or "voters"
    return head_lows in (["some"], ["many"], ["others"])


def impersonal_cue(cue: str) -> bool:
    """Is ``cue``, of an attribution with no source, an agentless report ("it was reported", "reportedly")?

    >>> impersonal_cue("it is said"), impersonal_cue("reportedly"), impersonal_cue("saying"), impersonal_cue("was announced")
    (True, True, False, False)
    """
    lows = {w.lower() for w in _words(cue.replace("\u2019", "'"))}
    lows |= {p for w in lows for p in re.split(r"(?=')", w) if p}
    if lows & (BLOCKING_WORDS | BELIEF_FORMS | {"no"}):
        return False  # "would be said", "there have been no reported cases"
    if lows & SOURCELESS_ADVERBS:
        return True
    if not cue_qualifies(cue) or _has_name(cue, skip_initial=True):
        return False
    return bool(lows & IMPERSONAL_FORMS) and bool(lows & _BE_FORMS)


# --------------------------------------------------------------------------- PolNeAR

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
    # a context-aware model needs the article's real neighbours (the records skip some sentences):
    # each record carries the sentences around it, enough for a context window of MAX_CONTEXT_WINDOW
    texts = [text[s:e] for s, e in sentences]
    for rec in records:
        lo = max(rec["i"] - MAX_CONTEXT_WINDOW, 0)
        rec["around"] = {"sentences": texts[lo:rec["i"] + MAX_CONTEXT_WINDOW + 1], "k": rec["i"] - lo}
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


# --------------------------------------------------------------------------- CheckThat! / NewsSD

def _subj_obj(label: str, text: str, doc: str, where: str) -> dict:
    label = label.strip()
    if label == "SUBJ":
        raw = {"label": "unattributed_claim", "allowed": ["unattributed_claim"]}
    elif label == "OBJ":
        raw = {"label": None, "allowed": list(OBJ_ALLOWED)}
    else:
        raise DataError(f"{where}: unknown subjectivity label {label!r} (expected OBJ or SUBJ)")
    return _record(raw | {"text": _norm(text), "doc": doc, "gold": label}, where)


def _checkthat_path(split: str, root: str | None) -> str:
    _check_split(split, _CHECKTHAT_SPLITS, "CheckThat!")
    return _need(os.path.join(data_root(root), "checkthat2025-subjectivity-en", "task1", "data", "english", f"{split}_en.tsv"))


def _read_table(path: str, delimiter: str, needed: tuple[str, ...]) -> Iterable[tuple[str, dict]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{path}:1: header lacks column(s) {', '.join(missing)}")
        for row in reader:
            yield f"{path}:{reader.line_num}", row


def load_checkthat(split: str, root: str | None = None) -> list[dict]:
    """CheckThat! 2025 English sentences of ``split`` (train, dev or dev_test; dev_test is held out)."""
    path = _checkthat_path(split, root)
    return [_subj_obj(row["label"] or "", row["sentence"] or "", row["sentence_id"], where)
            for where, row in _read_table(path, "\t", ("sentence_id", "sentence", "label"))]


def load_newssd(root: str | None = None) -> list[dict]:
    """NewsSD-ENG sentences not in CheckThat! (any split) and not repeated within NewsSD."""
    base = os.path.join(data_root(root), "newssd-eng", "data", "english")
    paths = [_need(os.path.join(base, f"{name}.csv")) for name in _NEWSSD_FILES]
    seen = {text_key(r["text"]) for split in _CHECKTHAT_SPLITS for r in load_checkthat(split, root)}
    records = []
    for name, path in zip(_NEWSSD_FILES, paths):
        for row_no, (where, row) in enumerate(_read_table(path, ",", ("Sentence", "Label")), 1):
            key = text_key(row["Sentence"] or "")
            if key in seen:
                continue
            seen.add(key)
            records.append(_subj_obj(row["Label"] or "", row["Sentence"] or "", f"newssd-{name}-{row_no}", where))
    return records


# --------------------------------------------------------------------------- BABE

BABE_OPINION = "Expresses writer's opinion"
BABE_FACTUAL = "Entirely factual"


def load_babe(split: str, root: str | None = None) -> list[dict]:
    """BABE SG2 sentences: ``train`` = outlets other than Reuters, ``heldout`` = Reuters."""
    _check_split(split, _BABE_SPLITS, "BABE")
    path = _need(os.path.join(data_root(root), "babe", "data", "final_labels_SG2.csv"))
    records = []
    for where, row in _read_table(path, ";", ("text", "outlet", "label_opinion")):
        is_reuters = _norm(row["outlet"] or "").lower() == "reuters"
        if is_reuters != (split == "heldout"):
            continue
        gold = (row["label_opinion"] or "").strip()
        value = gold.replace("\u2019", "'")
        if value == BABE_OPINION:
            raw = {"label": "unattributed_claim", "allowed": ["unattributed_claim"]}
        elif value == BABE_FACTUAL:
            raw = {"label": None, "allowed": list(OBJ_ALLOWED)}
        else:
            continue
        doc = (row.get("news_link") or "").strip() or f"babe-SG2-{where.rsplit(':', 1)[1]}"
        records.append(_record(raw | {"text": _norm(row["text"] or ""), "doc": doc, "gold": gold}, where))
    return records


# --------------------------------------------------------------------------- all trainable data

def held_out_records(root: str | None = None) -> list[dict]:
    """The held-out splits (evaluation only): PolNeAR test, CheckThat! dev_test, BABE Reuters."""
    return load_polnear("test", root) + load_checkthat("dev_test", root) + load_babe("heldout", root)


def trainable_records(root: str | None = None, keep_dev_out: bool = False) -> list[dict]:
    """Everything that may be trained or tuned on, never a held-out split.

    PolNeAR train + dev, CheckThat! train + dev, NewsSD-ENG (deduplicated) and
    BABE train, in that order; each record names its ``corpus``. With
    ``keep_dev_out`` the dev splits (PolNeAR dev, CheckThat! dev, the sets of
    :data:`TUNING_SETS`) stay out, so that a recipe can be tuned on them. A
    sentence whose text (lower-cased, whitespace collapsed) occurs in a held-out
    split (PolNeAR test including its ambiguous sentences, CheckThat! dev_test,
    BABE Reuters) is dropped. Repeated texts keep their first record, except that
    a text whose copies disagree on ``allowed`` (a short "Why?" that is a plain
    sentence in one article and a quote in another) is dropped altogether.
    """
    held = {text_key(r["text"]) for r in
            load_polnear(HELD_OUT["polnear"], root, include_ambiguous=True)
            + load_checkthat(HELD_OUT["checkthat"], root) + load_babe(HELD_OUT["babe"], root)}
    if keep_dev_out:  # the tuning sets must not leak into training through a repeated text either
        held |= {text_key(r["text"]) for r in load_polnear(TUNING_SETS["polnear"], root, include_ambiguous=True)
                 + load_checkthat(TUNING_SETS["checkthat"], root)}
    parts = [("polnear", load_polnear("train", root)), ("checkthat", load_checkthat("train", root))]
    if not keep_dev_out:
        parts += [("polnear", load_polnear(TUNING_SETS["polnear"], root)),
                  ("checkthat", load_checkthat(TUNING_SETS["checkthat"], root))]
    parts += [("newssd", load_newssd(root)), ("babe", load_babe("train", root))]
    records = [rec | {"corpus": corpus} for corpus, recs in parts for rec in recs]
    allowed_sets: dict[str, set[tuple[str, ...]]] = {}
    for rec in records:
        allowed_sets.setdefault(text_key(rec["text"]), set()).add(tuple(rec["allowed"]))
    out, seen = [], set()
    for rec in records:
        key = text_key(rec["text"])
        if key in held or key in seen or len(allowed_sets[key]) > 1:
            continue
        seen.add(key)
        out.append(rec)
    return out
