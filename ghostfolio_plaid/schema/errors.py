"""Errors as clients see them: domain errors keep their ``extensions.code``; anything else is masked."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from ghostfolio_plaid.db import DATABASE_DOWN, DATABASE_DOWN_MESSAGE
from ghostfolio_plaid.errors import DomainError

INTERNAL_MESSAGE = "Internal server error"


def is_unexpected(error: GraphQLError) -> bool:
    return error.original_error is not None and not isinstance(error.original_error, DomainError)


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        down = isinstance(error.original_error, DATABASE_DOWN)
        return GraphQLError(
            message=DATABASE_DOWN_MESSAGE if down else INTERNAL_MESSAGE,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "UNAVAILABLE" if down else "INTERNAL"},
        )
