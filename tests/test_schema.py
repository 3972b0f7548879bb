"""Schema snapshot: a change to the GraphQL contract must be deliberate (update schema.graphql)."""

from pathlib import Path

from ghostfolio_plaid.schema import schema

SNAPSHOT = Path(__file__).parents[1] / "schema.graphql"


def test_schema_matches_the_committed_snapshot() -> None:
    assert SNAPSHOT.read_text() == schema.as_str() + "\n", "schema changed: regenerate schema.graphql"
