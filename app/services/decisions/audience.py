"""How well an event's audience fits a product's categories, as a number in [0, 1].

Tokens are lower-cased words in singular form. An event's tokens are the words of its
title and audience plus the categories its audience usually buys (`AUDIENCE_CATEGORIES`, plain
retail common sense, not fitted to any data). fit = 0.25 + 0.75 * (share of the product's
category tokens the event covers); 0.5 when either side says nothing (no categories, or an
audience of everyone).
"""

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

GENERIC_AUDIENCES = {"", "all", "everyone", "general", "public", "customer", "shopper"}
AUDIENCE_CATEGORIES: dict[str, set[str]] = {
    "family": {"produce", "fresh", "fruit", "vegetable", "dairy", "bakery", "snack", "meat", "frozen",
               "cereal", "household", "baby", "juice", "pantry"},
    "student": {"snack", "beverage", "drink", "ready", "meal", "instant", "coffee", "energy", "frozen",
                "noodle", "pizza", "stationery"},
    "senior": {"health", "pharmacy", "bakery", "dairy", "produce", "tea", "fruit", "vegetable"},
    "kid": {"snack", "sweet", "candy", "toy", "cereal", "juice", "dairy", "fruit", "ice"},
    "child": {"snack", "sweet", "candy", "toy", "cereal", "juice", "dairy", "fruit", "ice"},
    "parent": {"baby", "household", "produce", "dairy", "snack", "juice"},
    "athlete": {"protein", "beverage", "drink", "energy", "health", "fruit", "sport", "water"},
    "fitness": {"protein", "beverage", "drink", "energy", "health", "fruit", "sport", "water"},
    "adult": {"wine", "beer", "alcohol", "spirit", "snack", "cheese", "meat"},
    "party": {"wine", "beer", "alcohol", "spirit", "snack", "beverage", "drink", "chip", "ice", "meat"},
    "pet": {"pet", "dog", "cat"},
    "professional": {"coffee", "ready", "meal", "beverage", "snack", "bakery"},
}
_WORD = re.compile(r"[a-z0-9]+")


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def _category_tokens(categories: tuple[str, ...]) -> frozenset[str]:
    return frozenset(tokens(categories))


def tokens(texts: Iterable[str]) -> set[str]:
    """Lower-cased words of `texts` in singular form (families -> family, drinks -> drink)."""
    return {_singular(w) for text in texts for w in _WORD.findall(text.lower())}


def _event_tokens(title: str, audience: str) -> set[str] | None:
    """An event's tokens, or None when its audience is everyone."""
    audience_words = tokens([audience])
    if not audience_words or audience_words <= GENERIC_AUDIENCES:
        return None
    expanded = set().union(*(AUDIENCE_CATEGORIES.get(w, set()) for w in audience_words))
    return expanded | audience_words | tokens([title])


def audience_fit(
    item_categories: Sequence[Sequence[str]], events: Sequence[tuple[str, str]]
) -> np.ndarray:
    """fit[i, j] of item i's categories with event j = (title, audience) -> float64[n_items, n_events].

    A catalogue repeats a few lists of categories: each distinct list is scored once and its row repeated."""
    kinds: dict[tuple[str, ...], int] = {}
    kind_of = np.fromiter((kinds.setdefault(tuple(categories), len(kinds)) for categories in item_categories),
                          np.int64, len(item_categories))
    item_tokens = [_category_tokens(categories) for categories in kinds]
    vocabulary = {w: k for k, w in enumerate(sorted(set().union(*item_tokens)))} if item_tokens else {}
    items = np.zeros((len(item_tokens), len(vocabulary)))
    for i, words in enumerate(item_tokens):
        items[i, [vocabulary[w] for w in words]] = 1.0
    event_words = [_event_tokens(title, audience) for title, audience in events]
    event_matrix = np.zeros((len(events), len(vocabulary)))
    for j, covered in enumerate(event_words):
        if covered:
            event_matrix[j, [vocabulary[w] for w in covered if w in vocabulary]] = 1.0
    n_tokens = items.sum(axis=1, keepdims=True)
    share = (items @ event_matrix.T) / np.maximum(n_tokens, 1.0)
    fit = 0.25 + 0.75 * share
    generic = np.array([words is None for words in event_words], dtype=bool)
    fit[:, generic] = 0.5
    fit[n_tokens[:, 0] == 0, :] = 0.5
    return fit[kind_of]
