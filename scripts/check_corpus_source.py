#!/usr/bin/env python3
"""Check hand-written corpus source files (data/corpus/source/*.jsonl).

Each line is one article:
  {"doc": "w1-001", "domain": "...", "register": "...",
   "paragraphs": [[headline_sentence], [sentence, ...], ...]}
and each sentence is
  {"text": "...", "label": "neutral_report|attributed_statement|unattributed_claim",
   "source": "exact substring or null", "cue": "exact substring or null",
   "hard": "rule N: why" or null}

Usage: check_corpus_source.py FILE [FILE ...]   (prints problems with file:line, then totals)
"""
import collections
import difflib
import json
import re
import sys

LABELS = ("neutral_report", "attributed_statement", "unattributed_claim")
DOMAINS = (
    "domestic politics", "diplomacy", "war and conflict", "protests and unrest",
    "economy and markets", "business", "courts and crime", "health", "science",
    "climate and disasters", "sports", "technology", "education", "local government",
    "culture", "energy", "transport", "migration", "agriculture",
)
REGISTERS = ("wire", "national newspaper", "local news", "analysis", "opinion-tinged", "state media")
SENTENCE_KEYS = {"text", "label", "source", "cue", "hard"}


def check_article(art, where):
    """Yield problem strings for one parsed article."""
    for key in ("doc", "domain", "register", "paragraphs"):
        if key not in art:
            yield f"{where}: missing key {key!r}"
            return
    if art["domain"] not in DOMAINS:
        yield f"{where}: unknown domain {art['domain']!r} (one of {DOMAINS})"
    if art["register"] not in REGISTERS:
        yield f"{where}: unknown register {art['register']!r} (one of {REGISTERS})"
    pars = art["paragraphs"]
    if not isinstance(pars, list) or len(pars) < 2 or len(pars[0]) != 1:
        yield f"{where}: paragraphs must be a list whose first paragraph is the headline alone"
        return
    for p, par in enumerate(pars):
        if not isinstance(par, list) or not par:
            yield f"{where}: paragraph {p} is empty or not a list"
            continue
        for s, sent in enumerate(par):
            at = f"{where} paragraph {p} sentence {s}"
            if not isinstance(sent, dict) or set(sent) != SENTENCE_KEYS:
                yield f"{at}: keys must be exactly {sorted(SENTENCE_KEYS)}"
                continue
            text = sent["text"]
            if not isinstance(text, str) or not text.strip() or text != text.strip() or "\n" in text:
                yield f"{at}: text must be a non-empty single line without surrounding spaces"
                continue
            if sent["label"] not in LABELS:
                yield f"{at}: unknown label {sent['label']!r}"
            for span in ("source", "cue"):
                val = sent[span]
                if val is not None and (not isinstance(val, str) or val not in text):
                    yield f"{at}: {span} {val!r} is not an exact substring of the text"
            if sent["label"] != "attributed_statement" and (sent["source"] or sent["cue"]):
                yield f"{at}: source/cue are only given for attributed_statement"
            if sent["label"] == "attributed_statement" and bool(sent["source"]) != bool(sent["cue"]):
                yield f"{at}: give both source and cue, or neither (quote continuation)"
            if p > 0 and text[-1] not in '.!?"\u201d\')':
                yield f"{at}: body sentence should end with . ! ? or a closing quote"


PAIR_KEYS = {"group", "domain", "neutral", "attributed", "source", "cue", "unattributed", "kind"}
# claim kinds: neutral / attributed / unattributed, the unattributed member showing the kind
CLAIM_KINDS = ("vague source", "anonymous official", "hedge", "reportedly", "loaded framing", "motive",
               "prediction", "judgement", "rhetorical question", "own-paper source", "unnamed quote")
# the neutral / attributed boundary: reporting verbs beyond "said" (with a vague-source third member),
# quote fragments (named speaker vs no speaker), and groups of two (unattributed null): acts versus
# statements (LABELS.md rule 9) and reports that somebody spoke (rule 2)
BOUNDARY_KINDS = ("reporting verb", "quote fragment", "act vs statement", "report of speaking")
PAIRS_OF_TWO = ("act vs statement", "report of speaking")
# a reporting-verb group whose content is not a plain fact on its own may leave the neutral member null
NEUTRAL_OPTIONAL = ("reporting verb",)
PAIR_KINDS = CLAIM_KINDS + BOUNDARY_KINDS
_REPORTING = re.compile(r"\b(said|says|say|told|tell|reported|reports|confirmed|claimed|believe|believes|argue|argues|"
                        r"insist|insisted|acknowledged|wrote|added|suggested|indicated|warned|show|shows|showed|"
                        r"according|anonymity|named|identified|saying|predict|predicts|hope|fear|guess|estimate|heard|learned|learnt|reveal|revealed|established|discovered|found|understands|seen)\b", re.I)
_CLAUSE_WORD = re.compile(r"\b(though|although|but|while|because|which|and|whereas|that|so|yet|even)\b", re.I)


def _is_source_tail(tail):
    """A short vague or anonymous source phrase (", a port official said privately."), not a content clause."""
    return len(tail.split()) <= 12 and bool(_REPORTING.search(tail)) and not _CLAUSE_WORD.search(tail)


def appended_clause(neutral, unattributed):
    """True when ``unattributed`` is ``neutral`` with a clause of 4+ words appended at the end.

    The minimal-pair habit the brief of the third pair batch removed: a model learns "a long tail
    means a claim" instead of the rule. A vague source phrase put where a named one stands
    ("..., sources said.") is a source phrase, not an appended clause, and is allowed.
    """
    n, u = neutral.split(), unattributed.split()
    ops = difflib.SequenceMatcher(None, [w.lower() for w in n], [w.lower() for w in u], autojunk=False).get_opcodes()
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal" or i2 != len(n) or j2 != len(u) or (j2 - j1) - (i2 - i1) < 4:
        return False
    inserted = " ".join(u[j1:])
    tail = inserted.split(",", 1)[1].strip() if "," in inserted else inserted
    return not _is_source_tail(tail)


def check_pair(pair, where):
    """Yield problem strings for one minimal-pair group."""
    if not isinstance(pair, dict) or set(pair) != PAIR_KEYS:
        yield f"{where}: keys must be exactly {sorted(PAIR_KEYS)}"
        return
    if pair["domain"] not in DOMAINS:
        yield f"{where}: unknown domain {pair['domain']!r}"
    if pair["kind"] not in PAIR_KINDS:
        yield f"{where}: unknown kind {pair['kind']!r} (one of {PAIR_KINDS})"
    members = ("neutral", "attributed", "unattributed")
    two = pair["kind"] in PAIRS_OF_TWO
    if two and (pair["unattributed"] is not None or pair["neutral"] is None or pair["attributed"] is None):
        yield f"{where}: a {pair['kind']!r} group has a neutral and an attributed member and unattributed null"
        return
    if pair["kind"] in NEUTRAL_OPTIONAL and pair["neutral"] is None:
        two = True
        if pair["attributed"] is None or pair["unattributed"] is None:
            yield f"{where}: a reporting-verb group without a neutral member needs the other two"
            return
    texts = [pair[k] for k in members if pair[k] is not None or not two]
    if not all(isinstance(t, str) and t.strip() == t and t and "\n" not in t for t in texts):
        yield f"{where}: the sentences must be non-empty single lines"
        return
    if len(set(texts)) != len(texts):
        yield f"{where}: the sentences must differ"
    for span in ("source", "cue"):
        if not isinstance(pair[span], str) or pair[span] not in pair["attributed"]:
            yield f"{where}: {span} must be an exact substring of the attributed sentence"
    if pair["neutral"] is not None and pair["unattributed"] is not None and appended_clause(pair["neutral"], pair["unattributed"]):
        yield f"{where}: the unattributed member is the neutral one plus an appended clause; change one phrase or word"


def checked_rows(paths, check):
    """Yield ``(where, row, problems)`` for every non-blank line; problems are printed as found."""
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{path}:{lineno}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    print(f"{where}: malformed JSON: {e}")
                    yield where, None, 1
                    continue
                found = list(check(row, where))
                for msg in found:
                    print(msg)
                yield where, row, len(found)


def unique_rows(paths, check, id_key):
    """The rows that pass ``check`` and whose ``id_key`` was not seen before, and the problem count."""
    rows, ids, problems = [], set(), 0
    for where, row, found in checked_rows(paths, check):
        problems += found
        if found:
            continue
        if row[id_key] in ids:
            print(f"{where}: duplicate {id_key} id {row[id_key]}")
            problems += 1
        ids.add(row[id_key])
        rows.append((where, row))
    return rows, problems


def main_pairs(paths):
    pairs, problems = unique_rows(paths, check_pair, "group")
    kinds = collections.Counter(pair["kind"] for _, pair in pairs)
    print(f"groups {len({pair['group'] for _, pair in pairs})}  problems {problems}")
    print("  kinds:", dict(kinds))
    return 1 if problems else 0


def main(paths):
    if paths and all("pairs" in p.rsplit("/", 1)[-1] for p in paths):
        return main_pairs(paths)
    labels = collections.Counter()
    domains = collections.Counter()
    registers = collections.Counter()
    articles, problems = unique_rows(paths, check_article, "doc")
    docs = {art["doc"] for _, art in articles}
    n_sent, seen_text = 0, {}
    for where, art in articles:
        domains[art["domain"]] += 1
        registers[art["register"]] += 1
        for par in art["paragraphs"]:
            for sent in par:
                n_sent += 1
                labels[sent["label"]] += 1
                if sent["text"] in seen_text and len(sent["text"]) > 25:
                    print(f"{where}: sentence repeated from {seen_text[sent['text']]}: {sent['text'][:60]}")
                    problems += 1
                seen_text.setdefault(sent["text"], where)
    print(f"articles {len(docs)}  sentences {n_sent}  problems {problems}")
    for lab in LABELS:
        print(f"  {lab:22s} {labels[lab]:5d}  {labels[lab] / max(n_sent, 1):.1%}")
    print("  domains:", dict(domains))
    print("  registers:", dict(registers))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
