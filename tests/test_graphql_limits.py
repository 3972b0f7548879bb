"""Abusive GraphQL documents are refused in milliseconds, before any validation rule can spend exponential or
quadratic work on them, and the event loop stays free for everyone else."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse

from ghostfolio_plaid.schema.cost import FragmentCycle, measure
from ghostfolio_plaid.schema.limits import LIMITS
from tests.conftest import Caller

REFUSAL_SECONDS = 1.0
"""Generous on a busy machine: each refusal takes milliseconds; before the guard, some took minutes."""


def doubling_fragments(levels: int, leaf: str = "__typename") -> str:
    """~15 tokens a level; each fragment spreads the next one twice, so expanded it selects 2^levels leaves."""
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query {{ {leaf} }}")
    return "\n".join(parts)


def doubling_cost(levels: int) -> int:
    """What :func:`measure` counts for :func:`doubling_fragments`: fragment ``F{i}`` expands to
    ``c(i) = 2 * (1 + c(i + 1))`` selections with ``c(levels) = 1``, so ``c(i) = 3 * 2**(levels - i) - 2``; the
    operation adds its spread of ``F0``, and every fragment definition (validated on its own) adds its ``c(i)``."""
    return 9 * 2**levels - 2 * levels - 6


def fragment_cycles(count: int) -> str:
    """Every fragment spreads the next two, modulo ``count``: cycles everywhere, Fibonacci paths through them."""
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{(i + 1) % count} ...F{(i + 2) % count} }}" for i in range(count)]
    return "\n".join(parts)


def fragment_chain(length: int) -> str:
    parts = ["query { ...F0 }"]
    parts += [f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(length)]
    parts.append(f"fragment F{length} on Query {{ __typename }}")
    return "\n".join(parts)


def same_fragment_fields(count: int) -> str:
    parts = ["query { plaidItems { " + " ".join(f"...F{i}" for i in range(count)) + " } }"]
    parts += [f"fragment F{i} on PlaidItem {{ id accounts {{ id }} }}" for i in range(count)]
    return "\n".join(parts)


def nested_repeats(levels: int, width: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = " ".join([f"accounts {{ {inner} }}"] * width)
    return "{ plaidItems { " + inner + " } }"


ADVERSARIAL: dict[str, str] = {
    "doubling-fragments": doubling_fragments(20),
    "doubling-fragments-aliased": doubling_fragments(20, "a: __typename"),
    "fragment-cycles": fragment_cycles(100),
    "fragment-self-spread": "query { ...A } fragment A on Query { ...A ...A }",
    "fragment-chain": fragment_chain(90),
    "fragment-pairs": "{ "
    + " ".join(f"...F{i}" for i in range(200))
    + " } "
    + " ".join(f"fragment F{i} on Query {{ a{i} }}" for i in range(200)),
    "repeated-object-fields": "{ " + " ".join(["plaidItems { id }"] * 450) + " }",
    "repeated-nested-fields": nested_repeats(3, 6),
    "repeated-fields-in-fragments": same_fragment_fields(130),
    "repeated-leaf-fields": "{ plaidItems { " + " ".join(["id"] * 1900) + " } }",
    "unused-repeating-fragment": "{ __typename } fragment X on Query { " + " ".join(["plaidItems { id }"] * 400) + " }",
    "unknown-input-fields": "mutation { exchangePublicToken(input: {"
    + " ".join(f"f{i}: [1 2]" for i in range(250))
    + "}) { plaidItemId } }",
    "repeated-directives": "{ __typename " + " ".join(["@skip(if: false)"] * 250) + " }",
    "nested-list-literal": "{ plaidItem(id: " + "[" * 600 + "]" * 600 + ") { id } }",
    "nested-selections": "{ " + "a { " * 300 + "b" + " }" * 300 + " }",
    "nested-input-objects": "{ plaidItem(id: " + "{a: " * 300 + "1" + "}" * 300 + ") { id } }",
    "many-comments": "#\n" * 100_000 + "{ __typename }",
    "huge-string": '{ plaidItem(id: "' + "x" * 500_000 + '") { id } }',
    "unknown-fragment": "{ ...Missing }",
}


async def post(client: httpx.AsyncClient, document: str, caller: Caller | None = None) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": document}, headers=caller.headers if caller else {})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, elapsed


@pytest.mark.parametrize("document", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
async def test_adversarial_documents_are_refused_fast(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, document: str
) -> None:
    body, elapsed = await post(client, document)
    assert elapsed < REFUSAL_SECONDS, f"refused after {elapsed:.2f} s"
    assert body.get("data") is None and body["errors"], body
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_USER_INPUT"}, body["errors"]
    assert len(body["errors"]) <= LIMITS.max_validation_errors + 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_fragment_bomb_does_not_block_healthz(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    bomb = asyncio.create_task(client.post("/graphql", json={"query": doubling_fragments(20)}))
    await asyncio.sleep(0)
    health = await client.get("/healthz")
    health_elapsed = time.perf_counter() - started
    refused = await bomb
    assert health.status_code == 200 and health_elapsed < REFUSAL_SECONDS, f"/healthz took {health_elapsed:.2f} s"
    (error,) = refused.json()["errors"]
    assert error["message"] == (
        f"The document selects {doubling_cost(20)} fields and fragments once its fragments are expanded; "
        f"the limit is {LIMITS.max_selections}"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{ " + "a { " * 12 + "b" + " }" * 12 + " }", f"depth 13 exceeds the limit of {LIMITS.max_depth}"),
        ("{ " + " ".join(f"a{n}: __typename" for n in range(31)) + " }", "31 aliases"),
        ("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }", "Fragment A spreads itself"),
        ("{ plaidItems { " + " ".join(["id"] * 2100) + " } }", "tokens"),
        ("{ " + " ".join(["plaidItems { id }"] * 20) + " }", "20 fields answer to 'plaidItems'"),
        ('{ __type(name: "Query") { ' + "ofType { " * 20 + "name" + " }" * 21 + " }", "Fields nest 22 deep"),
        ("{ __typename } " + " ".join(f"fragment F{i} on Query {{ __typename }}" for i in range(101)), "101 fragments"),
        ("{ plaidItem(id: [" + " ".join(["1"] * 200) + "]) { id } }", "holds 201 values"),
    ],
    ids=["depth", "aliases", "cycle", "tokens", "repeats", "nesting", "fragments", "values"],
)
async def test_refusals_say_which_limit(client: httpx.AsyncClient, alice: Caller, document: str, message: str) -> None:
    body, _ = await post(client, document, alice)
    (error,) = body["errors"]
    assert message in error["message"] and error["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_ordinary_documents_still_run(client: httpx.AsyncClient, alice: Caller) -> None:
    introspection, _ = await post(client, get_introspection_query(descriptions=True))
    assert "errors" not in introspection and introspection["data"]["__schema"]["queryType"]["name"] == "Query"
    fragments = """
    query Items { plaidItems { ...Item } }
    fragment Item on PlaidItem { id status accounts { ...Account } ...Ids }
    fragment Ids on PlaidItem { id institutionId }
    fragment Account on Account { id balance holdings { symbol } activities(first: 5) { totalCount } }
    """
    body, _ = await post(client, fragments, alice)
    assert body == {"data": {"plaidItems": []}}


def test_measure_expands_each_fragment_once() -> None:
    cost = measure(parse(doubling_fragments(200)))
    assert cost.selections == doubling_cost(200)
    assert (cost.depth, cost.nesting, cost.aliases) == (0, 1, 0)
    small = measure(parse(doubling_fragments(1)))
    assert small.selections == doubling_cost(1) == 10


def test_measure_counts_depth_aliases_and_introspection_apart() -> None:
    cost = measure(parse("query { a: plaidItems { ...I } } fragment I on PlaidItem { b: accounts { id } }"))
    assert (cost.depth, cost.nesting, cost.aliases) == (3, 3, 2)
    introspection = measure(parse(get_introspection_query(descriptions=True)))
    assert introspection.depth == 0 and 10 < introspection.nesting <= LIMITS.max_nesting


def test_measure_names_a_fragment_cycle() -> None:
    with pytest.raises(FragmentCycle) as raised:
        measure(parse(fragment_cycles(5)))
    assert raised.value.path == ("F0", "F1", "F2", "F3", "F4", "F0")
