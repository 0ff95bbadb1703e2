"""A query's price from its document alone (GitHub's rules: connections' first/last multiply)."""

import pytest
from graphql import parse

from apps.api.graphql.cost import price
from apps.api.graphql.schema import schema

NESTED = """
query($n: Int) { folders(first: 10) { edges { node { documents(first: $n) { edges { node {
  versions(first: 5) { edges { node { number } } } } } } } } } }
"""


def priced(query, variables=None, operation=None):
    return price(schema()._schema, parse(query), variables, operation)


@pytest.mark.parametrize(
    "query, variables, requests, nodes, cost, depth",
    [
        ("{ eventTypes { name } }", None, 0, 0, 1, 2),
        ("{ members(first: 5) { edges { node { id } } } }", None, 1, 5, 1, 4),
        # No first/last: the connection's maximum, 100.
        ("{ members { edges { node { id } } } }", None, 1, 100, 1, 4),
        # Two connections side by side add up.
        ("{ members(first: 5) { edges { cursor } } folders(last: 7) { edges { cursor } } }", None, 2, 12, 1, 3),
        # Nested: 1 call of folders, 10 of documents (one per folder), 10 x 20 of versions.
        (NESTED, {"n": 20}, 1 + 10 + 200, 10 + 200 + 1000, 3, 10),
        (NESTED, {"n": 100}, 1 + 10 + 1000, 10 + 1000 + 5000, 11, 10),
        # Fragments count where they are spread; introspection and __typename cost nothing.
        (
            "{ ...F __schema { types { name } } } "
            "fragment F on Query { members(first: 3) { __typename edges { cursor } } }",
            None, 1, 3, 1, 3,
        ),
        # Of several operations, the one named.
        ("query A { members(first: 2) { edges { cursor } } } query B { eventTypes { name } }", None, 1, 2, 1, 3),
    ],
)  # fmt: skip
def test_price(query, variables, requests, nodes, cost, depth):
    operation = "A" if "query A" in query else None
    found = priced(query, variables, operation)
    assert (found.requests, found.nodes, found.cost, found.depth) == (requests, nodes, cost, depth)
