"""A query's price, computed from its document before anything runs (GitHub's rules).

Every connection (a field whose type is a `…Connection` with `first`/`last`) asks for up to
`first` (or `last`; neither: the connection's maximum, 100) nodes, and is asked for once per node
of each connection around it. So:

- requests: the connections' calls, each counted as many times as the nodes around it;
- nodes: the most nodes the query can return (each connection's limit times its calls);
- cost: requests / 100, rounded up, at least 1: what the query takes from the rate limit;
- depth: the deepest field (the root fields are depth 1), introspection (`__schema`, `__type`) aside.

A query deeper than HUB_GRAPHQL_MAX_DEPTH, over HUB_GRAPHQL_MAX_COST or HUB_GRAPHQL_MAX_NODES is
refused before it runs.
"""

import math
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    get_named_type,
    get_operation_ast,
    value_from_ast,
)

PAGE_MAX = 100  # strawberry's ListConnection refuses first/last above it


@dataclass
class Price:
    depth: int = 0
    requests: int = 0
    nodes: int = 0

    @property
    def cost(self) -> int:
        return max(1, math.ceil(self.requests / 100))


def is_connection(field_def) -> bool:
    return get_named_type(field_def.type).name.endswith("Connection") and "first" in field_def.args


def _limit(node: FieldNode, field_def, variables) -> int:
    for name in ("first", "last"):
        arg = next((a for a in node.arguments or () if a.name.value == name), None)
        if arg is not None:
            value = value_from_ast(arg.value, field_def.args[name].type, variables)
            if isinstance(value, int) and value >= 0:
                return min(value, PAGE_MAX)
    return PAGE_MAX


def price(schema: GraphQLSchema, document: DocumentNode, variables: dict | None, operation: str | None) -> Price:
    """The price of the operation `operation` of a valid `document` (see the module's rules)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    op = get_operation_ast(document, operation)
    result = Price()
    if op is None:
        return result
    variables = variables or {}

    def walk(selection_set, parent, calls: int, depth: int, seen: frozenset):
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name.startswith("__"):
                    continue  # introspection and __typename cost nothing
                fields = getattr(parent, "fields", {})
                field_def = fields.get(name)
                if field_def is None:
                    continue
                result.depth = max(result.depth, depth + 1)
                inner = calls
                if is_connection(field_def):
                    limit = _limit(selection, field_def, variables)
                    result.requests += calls
                    result.nodes += calls * limit
                    inner = calls * max(limit, 1)
                if selection.selection_set is not None:
                    walk(selection.selection_set, get_named_type(field_def.type), inner, depth + 1, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen:
                    kind = schema.get_type(fragment.type_condition.name.value) or parent
                    walk(fragment.selection_set, kind, calls, depth, seen | {name})
            elif isinstance(selection, InlineFragmentNode):
                kind = schema.get_type(selection.type_condition.name.value) if selection.type_condition else parent
                walk(selection.selection_set, kind or parent, calls, depth, seen)

    walk(op.selection_set, schema.get_root_type(op.operation), 1, 0, frozenset())
    return result
