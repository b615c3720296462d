"""Search that forgives: diacritics or none, any case, a typo or two, words in any order.

How a query is scored against a procedure (all pure, built once per catalogue):

1. Both sides are folded (:mod:`.fold`): "Lí Lịch" and "ly lich" are the same two words.
2. Each query word is looked up in the catalogue's vocabulary: exactly; else within one edit (two for
   words of 6+ letters; transpositions count one, RapidFuzz's OSA distance; a 3-letter word only
   forgives swapped or missing letters) and, for the last word only, as a prefix — the kiosk searches as the
   citizen types. Run-together words ("giayphep") are first split into known ones.
3. A procedure scores the share of the query's information it holds: each word weighs its rarity
   (idf) times how well it matched (exact 1, prefix 0.9, one edit 0.8, two 0.6) times where it
   matched (name or keywords 1, field 0.8, agency name 0.6). Filler ("làm", "xin", "thủ tục") counts
   only where it matches. Query words in the same order next to each other in the name add a bonus.
4. Known colloquial phrases ("bằng lái") are tried rewritten too (:mod:`.vocabulary`); the better
   score counts. An exact procedure code comes first.
5. Hits scoring at least ``min_score`` come best first; equal scores keep the catalogue's order,
   where a center puts its common procedures first.

RapidFuzz does the edit distances in C over the whole vocabulary at once, which keeps a query of a
2,000-procedure catalogue around a millisecond (``bench/procedures.py``).
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .fold import tokens
from .model import Catalogue, Procedure
from .vocabulary import FILLER, rewrite

if TYPE_CHECKING:
    from config import Site

__all__ = ["SearchHit", "SearchIndex", "SearchResult"]

NAME, FIELD, AGENCY = 1.0, 0.8, 0.6
EXACT, PREFIX, ONE_EDIT, TWO_EDITS = 1.0, 0.9, 0.8, 0.6
PHRASE_BONUS = 0.15
_PHRASE_CANDIDATES = 80


@dataclass(frozen=True)
class SearchHit:
    procedure: Procedure
    score: float  # 0..1: the share of the query found, with the phrase bonus


@dataclass(frozen=True)
class SearchResult:
    """What a search answers: the hits, best first, and a Vietnamese line for an empty answer."""

    query: str
    hits: tuple[SearchHit, ...]
    words: tuple[str, ...]  # the folded query words that were searched

    @property
    def procedures(self) -> list[Procedure]:
        return [h.procedure for h in self.hits]

    @property
    def message(self) -> str:
        """Empty when there are hits; otherwise what the kiosk tells the citizen."""
        if self.hits:
            return ""
        if not self.words:
            return "Hãy nhập tên thủ tục cần tìm, ví dụ: lý lịch tư pháp."
        return (f"Không tìm thấy thủ tục nào khớp với “{self.query.strip()}”. "
                "Hãy thử từ khác hoặc tìm theo lĩnh vực.")

    def to_dict(self) -> dict:
        return {"query": self.query, "message": self.message,
                "results": [{**h.procedure.to_dict(), "score": round(h.score, 3)} for h in self.hits]}


class SearchIndex:
    """An inverted index of one catalogue's folded words; :meth:`search` answers a query."""

    def __init__(self, catalogue: Catalogue, site: Site | None = None):
        self.catalogue = catalogue
        self.procedures = catalogue.procedures
        agency_names = {a.slug: a.name for a in site.agencies} if site is not None else {}
        self.postings: dict[str, dict[int, float]] = {}
        self.bigrams: list[frozenset[tuple[str, str]]] = []  # adjacent words of each name and keyword
        self.by_code = {p.code.casefold(): i for i, p in enumerate(self.procedures)}
        for i, p in enumerate(self.procedures):
            name = tuple(tokens(p.name))
            keywords = tuple(tuple(tokens(k)) for k in p.keywords)
            self.bigrams.append(frozenset(pair for phrase in (name, *keywords) for pair in zip(phrase, phrase[1:])))
            for weight, words in ((AGENCY, tokens(agency_names.get(p.agency, ""))), (FIELD, tokens(p.field)),
                                  (NAME, [w for phrase in (name, *keywords) for w in phrase])):
                for word in words:
                    posting = self.postings.setdefault(word, {})
                    if posting.get(i, 0.0) < weight:
                        posting[i] = weight
        n = max(len(self.procedures), 1)
        self.idf = {word: math.log(1 + n / len(posting)) for word, posting in self.postings.items()}
        self.max_idf = math.log(1 + n)
        self.vocabulary = sorted(self.postings)

    # -- words ------------------------------------------------------------------------------------
    def _split(self, word: str) -> list[str] | None:
        """``word`` as the fewest known words of 2+ letters ("giayphep" -> giay, phep), or None."""
        best: list[list[str] | None] = [[]] + [None] * len(word)
        for end in range(2, len(word) + 1):
            for start in range(0, end - 1):
                part = word[start:end]
                if best[start] is not None and part in self.postings:
                    candidate = best[start] + [part]
                    if best[end] is None or len(candidate) < len(best[end]):
                        best[end] = candidate
        found = best[len(word)]
        return found if found and len(found) > 1 else None

    def _matches(self, word: str, last: bool) -> dict[str, float]:
        """Vocabulary words that ``word`` may mean, with how well they match."""
        if word in self.postings:
            return {word: EXACT}
        found: dict[str, float] = {}
        if last:
            at = bisect.bisect_left(self.vocabulary, word)
            while at < len(self.vocabulary) and self.vocabulary[at].startswith(word):
                found[self.vocabulary[at]] = PREFIX
                at += 1
        edits = 0 if len(word) < 3 else 1 if len(word) < 6 else 2
        if edits:
            for candidate, distance, _ in process.extract(word, self.vocabulary, scorer=OSA.distance,
                                                          score_cutoff=edits, limit=None):
                if len(word) == 3 and len(candidate) != 4 and sorted(candidate) != sorted(word):
                    continue  # a 3-letter word forgives swapped or missing letters ("xya", "gay" for
                    # "giay") but not a wrong one: "hon" is not "hop"
                score = ONE_EDIT if distance == 1 else TWO_EDITS
                if found.get(candidate, 0.0) < score:
                    found[candidate] = score
        return found

    def _words(self, query: str) -> list[str]:
        words: list[str] = []
        for word in tokens(query):
            split = None if word in self.postings or len(word) < 4 else self._split(word)
            for part in split or [word]:
                if part not in words:
                    words.append(part)
        return words

    # -- scoring ----------------------------------------------------------------------------------
    def _term(self, word: str, last: bool, cache: dict) -> tuple[dict[str, float], dict[int, float], float]:
        """What one query word brings: its matches, the best value per procedure, and its weight."""
        key = (word, last)
        if key not in cache:
            found = self._matches(word, last)
            if len(found) == 1 and next(iter(found.values())) == EXACT:
                per_procedure = self.postings[word]  # the common case needs no copy
            else:
                per_procedure = {}
                for candidate, quality in found.items():
                    for i, where in self.postings[candidate].items():
                        value = quality * where
                        if value > per_procedure.get(i, 0.0):
                            per_procedure[i] = value
            top = max(found.values(), default=0.0)
            # A word weighs as much as the commonest of its best matches ("d" typed so far weighs
            # like "dung", not like the rarest word starting with d); a word found nowhere weighs most.
            weight = min((self.idf[c] for c, q in found.items() if q == top), default=self.max_idf)
            cache[key] = (found, per_procedure, weight)
        return cache[key]

    def _score(self, words: list[str], min_score: float, cache: dict) -> dict[int, float]:
        """Scores of the procedures that may reach ``min_score`` (the others are left out)."""
        every_word_filler = all(w in FILLER for w in words)
        terms = [(*self._term(w, k == len(words) - 1, cache), w in FILLER and not every_word_filler)
                 for k, w in enumerate(words)]
        fixed = sum(weight for _, _, weight, filler in terms if not filler)
        rest_plain, rest_filler = fixed, sum(weight for _, _, weight, filler in terms if filler)
        many = len(words) > 1
        reachable = (min_score - PHRASE_BONUS) / (1 - PHRASE_BONUS) if many else min_score
        held: dict[int, float] = {}
        extra: dict[int, float] = {}  # the weight of the filler a procedure does hold
        open_to_new = True
        # Rare words first; once the words left weigh too little to lift a procedure not yet seen
        # over the bar, only the procedures already seen are updated (MaxScore, much less work
        # than walking the long lists of "cấp" or "giấy").
        for _, per_procedure, weight, filler in sorted(terms, key=lambda t: (t[3], -t[2])):
            if open_to_new:
                for i, value in per_procedure.items():
                    held[i] = held.get(i, 0.0) + weight * value
                    if filler:
                        extra[i] = extra.get(i, 0.0) + weight
            else:
                small, large = (per_procedure, held) if len(per_procedure) < len(held) else (held, per_procedure)
                for i in [i for i in small if i in large]:
                    held[i] += weight * per_procedure[i]
                    if filler:
                        extra[i] = extra.get(i, 0.0) + weight
            if filler:
                rest_filler -= weight
            else:
                rest_plain -= weight
            denominator = fixed + rest_filler
            if open_to_new and (rest_plain + rest_filler) < reachable * denominator:
                open_to_new = False
        scores = {}
        for i, h in held.items():
            denominator = fixed + extra.get(i, 0.0)
            if denominator and h >= reachable * denominator:
                scores[i] = h / denominator
        if many:
            matches = [found for found, _, _, _ in terms]
            candidates = heapq.nlargest(_PHRASE_CANDIDATES, scores, key=scores.__getitem__)
            for i in scores:
                scores[i] *= 1 - PHRASE_BONUS
            for i in candidates:
                scores[i] += PHRASE_BONUS * self._in_order(i, matches)
        return scores

    def _in_order(self, i: int, matches: list[dict[str, float]]) -> float:
        """The share of consecutive query words found next to each other, in order, in the name."""
        bigrams = self.bigrams[i]
        found = 0
        for first, second in zip(matches, matches[1:]):
            if len(first) * len(second) <= len(bigrams):
                found += any((a, b) in bigrams for a in first for b in second)
            else:
                found += any(a in first and b in second for a, b in bigrams)
        return found / (len(matches) - 1)

    # -- the answer -------------------------------------------------------------------------------
    def search(self, query: str, *, agency: str | None = None, limit: int = 20,
               min_score: float = 0.6) -> SearchResult:
        """The procedures matching ``query`` best first (of one agency if given); at most ``limit``."""
        words = self._words(query)
        if not words or not self.procedures:
            return SearchResult(query, (), tuple(words))
        cache: dict = {}
        scores = self._score(words, min_score, cache)
        rewritten = rewrite(list(words))
        if rewritten:
            for i, score in self._score(rewritten, min_score, cache).items():
                if score > scores.get(i, 0.0):
                    scores[i] = score
        code = self.by_code.get(query.strip().casefold())
        if code is not None:
            scores[code] = 1.0 + PHRASE_BONUS  # an exact code beats any name
        ranked = sorted((i for i, s in scores.items() if s >= min_score
                         and (agency is None or self.procedures[i].agency == agency)),
                        key=lambda i: (-round(scores[i], 2), i))
        hits = tuple(SearchHit(self.procedures[i], min(scores[i], 1.0)) for i in ranked[:limit])
        return SearchResult(query, hits, tuple(words))
