"""Every limit on a GraphQL document, in one place.

Each limit bounds the work some later step may do, so that a document's cost is known in milliseconds before any
validation rule runs. ``ghostfolio_plaid.schema.guard`` enforces them in this order: the source (while parsing),
fragments (count, cycles), the document with its fragments expanded (selections, depth, nesting, aliases),
repeated response names, literal values, and last validation's own errors.
Ordinary front-end documents (and GraphiQL's introspection query) sit far below every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentLimits:
    max_source_chars: int = 20_000
    """Characters in the document: a single huge string or comment would otherwise be printed into every error
    message that quotes it."""

    max_tokens: int = 2_000
    """Lexical tokens; the parser's work is linear in them."""

    max_comments: int = 500
    """Comments are not tokens, but the lexer keeps them all."""

    max_fragments: int = 100
    """Fragment definitions. OverlappingFieldsCanBeMergedRule compares every pair of fragments spread together:
    200 one-field fragments cost it about 80 ms."""

    max_selections: int = 1_000
    """Fields, inline fragments and fragment spreads once every spread is expanded, summed over every definition
    (each fragment definition is validated on its own too). Several validation rules (and Strawberry's former
    depth and alias limiters) walk the expanded document, which fragments make exponential in its length; the
    standard introspection query needs about 300."""

    max_depth: int = 10
    """Fields on the longest path, introspection fields (``__schema``, ``__typename``, ...) not counted."""

    max_nesting: int = 20
    """Fields on the longest path, introspection included (its query nests ``ofType`` 9 times, 14 in all)."""

    max_aliases: int = 30
    """Aliases once fragments are expanded: each one can ask the same resolver again."""

    max_repeats: int = 10
    """Fields answering to one response name in one selection set, fragments merged in (so at one response
    path). graphql-core's OverlappingFieldsCanBeMergedRule compares them pairwise, recursively: quadratic."""

    max_value_nodes: int = 200
    """Values and object fields in one argument value or variable default written in the document (variables sent
    as JSON are not documents). Validation prints the whole literal into the error about each wrong part of it."""

    max_validation_errors: int = 10
    """Validation stops after this many errors. Several rules print the whole offending value into each error,
    so the errors' size is bounded by this count times the document's size."""


LIMITS = DocumentLimits()
