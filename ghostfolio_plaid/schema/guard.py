"""The document guard: a request's document is measured before any validation rule may walk it.

Validation runs synchronously on the event loop, so a rule that does exponential work on a small document (the
fragment bombs Strawberry's depth limiter and graphql-core's overlapping-fields rule fall for) freezes every other
request, ``/healthz`` included. This extension owns the validation step instead of leaving it to Strawberry:

1. parsing is bounded by ``parse()``'s own options (characters, tokens, comments; its nesting is bounded too);
2. :func:`refusal` measures the parsed document in linear time and refuses it, with ``BAD_USER_INPUT``, when its
   fragments, expanded size, depth, aliases, repeated fields or literal values exceed ``schema.limits.LIMITS``;
3. only then do the validation rules run, stopping after a few errors and computing no suggestions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from graphql import DocumentNode, GraphQLError, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType

from ghostfolio_plaid.errors import BadUserInput
from ghostfolio_plaid.schema.cost import FragmentCycle, fragment_definitions, largest_value, measure, most_repeated
from ghostfolio_plaid.schema.limits import LIMITS, DocumentLimits
from ghostfolio_plaid.schema.subscriptions import WEBSOCKET_ONLY

STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)
"""What Strawberry's own validation step adds to the configured rules; this step replaces it."""


def refusal(document: DocumentNode, limits: DocumentLimits = LIMITS) -> GraphQLError | None:
    """Why the document is too costly to validate or run, or None. Linear in the document's size."""
    fragments = len(fragment_definitions(document))
    if fragments > limits.max_fragments:
        return _refuse(f"The document defines {fragments} fragments; the limit is {limits.max_fragments}")
    try:
        cost = measure(document)
    except FragmentCycle as cycle:
        return _refuse(f"Fragment {cycle.path[0]} spreads itself ({cycle})")
    if cost.selections > limits.max_selections:
        return _refuse(
            f"The document selects {cost.selections} fields and fragments once its fragments are expanded; "
            f"the limit is {limits.max_selections}"
        )
    if cost.depth > limits.max_depth:
        return _refuse(f"Query depth {cost.depth} exceeds the limit of {limits.max_depth}")
    if cost.nesting > limits.max_nesting:
        return _refuse(f"Fields nest {cost.nesting} deep; the limit is {limits.max_nesting}")
    if cost.aliases > limits.max_aliases:
        return _refuse(f"The document uses {cost.aliases} aliases; the limit is {limits.max_aliases}")
    repeat = most_repeated(document)
    if repeat.count > limits.max_repeats:
        return _refuse(
            f"{repeat.count} fields answer to '{repeat.response_name}' in one selection set; "
            f"the limit is {limits.max_repeats}"
        )
    largest = largest_value(document)
    if largest > limits.max_value_nodes:
        return _refuse(f"An argument's value holds {largest} values; the limit is {limits.max_value_nodes}")
    return None


def _refuse(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": BadUserInput.code})


class DocumentGuard(SchemaExtension):
    def __init__(self, limits: DocumentLimits = LIMITS) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        # Strawberry's ParseOptions type names only max_tokens; its parse() passes every key to graphql-core's.
        options = cast(dict[str, int], self.execution_context.parse_options)
        options["max_source_length"] = self.limits.max_source_chars
        options["max_lexical_tokens"] = self.limits.max_tokens
        options["max_comments"] = self.limits.max_comments
        yield

    def on_validate(self) -> Iterator[None]:
        """Strawberry validates only while ``pre_execution_errors`` is None: setting it (even to no errors) means
        validation is done."""
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            refused = refusal(document, self.limits)
            over_http = getattr(context.context, "hub", None) is None
            if refused is None and over_http and context.operation_type == OperationType.SUBSCRIPTION:
                refused = _refuse(WEBSOCKET_ONLY)
            context.pre_execution_errors = (
                [refused]
                if refused
                else validate(
                    context.schema._schema,
                    document,
                    (*context.validation_rules, *STRAWBERRY_RULES),
                    max_errors=self.limits.max_validation_errors,
                    hide_suggestions=True,
                )
            )
        yield
