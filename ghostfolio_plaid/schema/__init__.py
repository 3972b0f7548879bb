"""The Strawberry schema: queries, mutations, and the extensions that guard them."""

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from ghostfolio_plaid.schema.errors import MaskUnexpectedErrors
from ghostfolio_plaid.schema.mutations import Mutation
from ghostfolio_plaid.schema.queries import Query

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(disable_field_suggestions=True),
    extensions=[
        MaskUnexpectedErrors,
        lambda: QueryDepthLimiter(max_depth=10),
        lambda: MaxAliasesLimiter(max_alias_count=30),
        lambda: MaxTokensLimiter(max_token_count=2000),
    ],
)

__all__ = ["schema"]
