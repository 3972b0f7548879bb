"""The Strawberry schema: queries, mutations, subscriptions, and the extensions that guard them all."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from ghostfolio_plaid.metrics import CountOperations
from ghostfolio_plaid.schema.errors import MaskUnexpectedErrors, is_unexpected
from ghostfolio_plaid.schema.guard import DocumentGuard
from ghostfolio_plaid.schema.mutations import Mutation
from ghostfolio_plaid.schema.queries import Query
from ghostfolio_plaid.schema.scalars import PLAIN_DECIMAL
from ghostfolio_plaid.schema.subscriptions import Subscription

log = logging.getLogger(__name__)


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Log what went wrong on our side with its traceback; a caller's mistake is not a server error."""
        for error in errors:
            if is_unexpected(error):
                log.error("GraphQL request failed: %s", error.message, exc_info=error.original_error)
            else:
                log.debug("GraphQL error for the caller: %s", error.message)


def build_schema(*, introspection: bool = True) -> Schema:
    """The schema; production may switch introspection off (ENABLE_INTROSPECTION=false).

    ``DocumentGuard`` enforces every document limit (``schema/limits.py``) and runs validation itself, for
    subscriptions as for queries.
    """
    extensions: list[Any] = [DocumentGuard, MaskUnexpectedErrors, CountOperations]
    if not introspection:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(disable_field_suggestions=True, scalar_map={Decimal: PLAIN_DECIMAL}),
        extensions=extensions,
    )


schema = build_schema()

__all__ = ["build_schema", "schema"]
