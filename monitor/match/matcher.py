"""Item x RuleSet -> Matches: rules compiled once, one pass over each text, every hit explained.

Matching semantics (the contract rule authors write against):

Text. The title and summary are split into words and folded
(`monitor.textnorm`): compatibility forms, case and accents are ignored, so
"Génocide", "GENOCIDE" and "genocide" are the same word; punctuation and
hyphens separate words ("El-Fasher" is "el fasher"). Terms are folded the
same way, so a term matches a phrase word by word, in order, adjacent.

Terms. A term's words are exact, prefix, fuzzy or family, and a term may be
case-sensitive:
- exact: every word equal after folding. Terms of 4 characters or fewer
  are exact unless the term says `fuzzy = true`, and even then each word of 4
  characters or fewer is compared exactly (one edit turns "rape" into "tape").
- prefix ("displac*", "recognis* as"): a word written with a trailing "*"
  need only start with the stem (3 letters at least); it is never fuzzy.
- fuzzy (the default for longer terms): each word of 5 or more characters
  matches a text word when (a) both start with the same letter (misspellings
  rarely touch the first letter; this keeps "killed" off "skilled") and
  (b) its score reaches the term's `min_score` (default 88) and, for words of
  5-6 characters, 90. The score is the best of rapidfuzz `fuzz.ratio` of the
  two words, and `fuzz.ratio` of their light stems and transliteration
  skeletons (common EN/FR/ES endings removed, doubled letters single, y as i,
  ph as f), the latter capped at 95. So "Rohingyas", "massacred" and
  "ethnicaly cleansed" match "Rohingya", "massacre" and "ethnic cleansing",
  and "Tigrai" matches "Tigray"; "genome" and "Genoa" do not match "genocide".
  A min_score above 95 thus allows misspellings of long words only, not
  inflections. A hit's score is 100 when every word is equal after folding.
- family (`family = true` on the term, or on the rule or the file's
  [defaults] for all its terms): each word matches the words of its family,
  those with the same stem in the term's `lang` (one of LANGS, from the
  term, rule or [defaults]; none: by the word's script, `family`), when
  that stem has at least 4 letters; a shorter stem matches only the equal
  word, so "war" does not take "wary" or "wars". "executions" takes "executed"
  and "execute", "masacre" "masacraron" and "masacrados", "déplacés"
  "déplacement". Words are stemmed folded. A family hit scores 100 for an
  equal word, else 95. Each word is compared one way: prefix words stay
  prefixes, acronyms and case-sensitive terms are not family unless they say
  so, and between fuzzy and family the setting nearer the term wins (a term's
  `fuzzy = true` under a family rule is fuzzy; `family = false` makes a term
  exact unless it says `fuzzy = true`). Refused at load: fuzzy = true and
  family = true in one table; family = true on a case-sensitive term or on a
  prefix alone; min_score on a family term; lang on a term that is not
  family, or on a rule with no family term.
- case-sensitive: a term written in capitals ("ICC", "CPI", "RSF") is an
  acronym: the text must show it in the same capitals, so "icc" or "Icc"
  do not match, while an all-capitals headline does. A term can set
  `case_sensitive = false` (or true) to override.

Rules. A rule fires when the item is in scope (feeds, tags, countries; terms
count only in the rule's `fields`) AND one `any` term matched (when `any` is
given) AND every `all` group has a match AND every `near` clause holds (an
`a` term and a `b` term in the same field, at most `within` words apart:
adjacent words are 1 apart; a clause written `{ any = [pairs], within = N }`
holds when one of its {a, b} pairs does, each pair within its own `within`
or the clause's) AND the weights of the distinct `weights` terms
found reach `threshold` AND no `none` term matched in the rule's fields. With
`none_within = N` a guard counts only within N words of a hit that made the
rule fire, in the same field ("ceasefire" 3 words from "massacre" vetoes, a
"ceasefire" at the far end of a summary does not); unscoped guards are the
exception.
The match lists each matched term once per group (its first occurrence; for
`near`, the pair that satisfied the clause: group "near", or "near[i].any[j]"
naming the pair that held in a clause with alternatives) with the text as it
appeared, a snippet of about 60 characters either side, and its score; the
match's score is the mean of its hits' scores.

Speed. Compiling indexes every term by its first word's key (or first two
for phrases); each distinct text word is looked up once (exact set, prefix
table by first 3 letters, rapidfuzz `process.extract` over the fuzzy words
sharing its first letter; for family words its stems, in a language only
when its first 3 letters begin a family stem of that language) and the
answer cached, so a pass over an item is a few dict lookups per word. A rule
is examined only when a term of a group it cannot fire without was found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from monitor.match.countries import gazetteer
from monitor.match.explain import Explainer
from monitor.match.fires import Group, RuleRefs, decide, hopeless, pair_name, sides
from monitor.match.fold import Texts, texts
from monitor.match.scan import Scanner
from monitor.match.vocab import TermTable
from monitor.match.vocab import stem as stem  # re-exported: dedup folds titles with it
from monitor.model import Item, Match
from monitor.rules.model import FIELDS, Rule, RuleSet, Term


class Matcher:
    """A RuleSet compiled for fast matching; `match` and `countries` are pure and thread-safe."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        table = TermTable()
        self._fields = ("article", *FIELDS)  # what texts may hold; fewer: hits filtered
        self._refs = tuple(self._compile_rule(rule, table) for rule in rules)
        # A rule is looked at only when a term of one group it cannot fire without
        # (any, else all[0], else a near side, else weights) was found.
        self._rules_of: dict[int, list[int]] = defaultdict(list)
        for index, refs in enumerate(self._refs):
            for tid in refs.required[0] if refs.required else refs.weights:
                self._rules_of[tid].append(index)
        self._scanner = Scanner(table)
        gazetteer()  # built now, with the rules, not on the first item (about 0.1 s)

    def _compile_rule(self, rule: Rule, table: TermTable) -> RuleRefs:
        def refs(terms: Iterable[Term]) -> Group:
            group: Group = {}
            for term in terms:
                group.setdefault(table.id(term), term)
            return group

        near = tuple(
            tuple((pair_name(i, j, c.alternatives), refs(p.a), refs(p.b), p.within)
                  for j, p in enumerate(c.pairs))
            for i, c in enumerate(rule.near)
        )  # fmt: skip
        all_ = tuple(refs(g) for g in rule.all)
        none = frozenset(refs(rule.none))
        any_ = refs(rule.any)
        # A clause needs one of its a terms and one of its b terms, whichever pair holds.
        groups = [any_, *all_, *(side for clause in near for side in sides(clause))]
        required = tuple(frozenset(g) for g in groups if g)
        named = (("any", any_), *((f"all[{i}]", g) for i, g in enumerate(all_)))
        fields = None if set(self._fields) <= _reads(rule) else frozenset(_reads(rule))
        weights = refs(rule.weights)
        return RuleRefs(rule, tuple((n, g) for n, g in named if g), none, weights, near,
                         required, required[1:], fields)  # fmt: skip

    def match(self, item: Item, texts: Texts | None = None) -> tuple[Match, ...]:
        """Every rule that fires on `item` (its `texts` when already folded), in file order."""
        return self.match_texts(item, texts or self.texts(item))

    def texts(self, item: Item) -> Texts:
        """The item's title and summary folded: one fold shared by countries, rules and model."""
        return texts(item.title, item.summary)

    def match_texts(
        self, item: Item, texts: Texts, probability: float | None = None
    ) -> tuple[Match, ...]:
        """`match` on texts already folded by `texts`; each Match carries `probability`."""
        found = self._scanner.occurrences(texts)
        if not found:
            return ()
        out = []
        countries: tuple[str, ...] | None = None
        explain: Explainer | None = None
        candidates = sorted({i for tid in found for i in self._rules_of.get(tid, ())})
        for index in candidates:
            refs = self._refs[index]
            if refs.also and hopeless(refs.also, found):
                continue
            picks = decide(refs, found)
            if picks is None or not _in_feeds(refs.rule, item):
                continue
            if refs.rule.countries:
                if countries is None:
                    countries = item.countries or gazetteer().mentioned(*texts.values())
                if not set(refs.rule.countries) & set(countries):
                    continue
            explain = explain or Explainer(texts)  # built once, for items that match
            out.append(explain.match(refs.rule, picks, probability))
        return tuple(out)

    def countries(self, item: Item, texts: Texts | None = None) -> tuple[str, ...]:
        """Sorted unique alpha-2 codes of the countries mentioned in title and summary."""
        folded = texts or self.texts(item)
        return gazetteer().mentioned(folded["title"], folded["summary"])


def _reads(rule: Rule) -> set[str]:
    """A rule's fields; a teaser's article (fetch_articles) is read as its summary's rest."""
    return {*rule.fields, "article"} if "summary" in rule.fields else set(rule.fields)


def _in_feeds(rule: Rule, item: Item) -> bool:
    if rule.feeds and item.feed not in rule.feeds:
        return False
    return not rule.tags or bool(set(rule.tags) & set(item.tags))
