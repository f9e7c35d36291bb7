"""Word lists and tests that decide whether a PolNeAR attribution counts under LABELS.md:
speech and report cues (not beliefs), identifiable sources, vague or anonymous sources (rule 3),
and agentless cues ("it was reported")."""

from __future__ import annotations

import re

from .common import _norm


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
