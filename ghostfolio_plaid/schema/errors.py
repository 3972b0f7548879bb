"""Errors as clients see them: domain errors keep their ``extensions.code``; the caller's mistakes get
``BAD_USER_INPUT``; anything else is ours, masked as ``INTERNAL`` (and logged with its traceback by the schema).

Whose fault an error is follows from where it arose. Without a path, it arose while reading the request's
document or variables (parsing, validation, coercing variables): the caller's, unless an exception that is not a
GraphQL error (a crash in an extension, say) is behind it. With a path, it arose while executing a field: ours,
unless a resolver raised a :class:`DomainError` on purpose.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from ghostfolio_plaid.db import DATABASE_DOWN, DATABASE_DOWN_MESSAGE
from ghostfolio_plaid.errors import BadUserInput, DomainError

INTERNAL_MESSAGE = "Internal server error"


def root_cause(error: GraphQLError) -> BaseException | None:
    """What is behind ``error``: graphql-core wraps a coercion error in another GraphQL error, so look through."""
    cause = error.original_error
    while isinstance(cause, GraphQLError) and cause.original_error is not None:
        cause = cause.original_error
    return cause


def is_unexpected(error: GraphQLError) -> bool:
    cause = root_cause(error)
    if isinstance(cause, DomainError):
        return False
    if error.path is not None:
        return True
    return cause is not None and not isinstance(cause, GraphQLError)


def _needs_rewriting(error: GraphQLError) -> bool:
    return is_unexpected(error) or "code" not in (error.extensions or {})


class MaskUnexpectedErrors(MaskErrors):
    """Masks what is ours and labels what is the caller's (the only errors left without a code)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_needs_rewriting, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not is_unexpected(error):
            return GraphQLError(
                message=error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=error.original_error,
                extensions={**(error.extensions or {}), "code": BadUserInput.code},
            )
        down = isinstance(root_cause(error), DATABASE_DOWN)
        return GraphQLError(
            message=DATABASE_DOWN_MESSAGE if down else INTERNAL_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "UNAVAILABLE" if down else "INTERNAL"},
        )
