"""What keeps a graph from being published, each problem named where it is."""

import pytest

from apps.workflow.graph import graph_problems, node_catalogue
from tests.workflow.conftest import graph_of


def where(graph):
    return {w for w, _ in graph_problems(graph)}


def test_a_good_graph_has_no_problem():
    graph = graph_of(
        ("check", "condition", {"conditions": {"attr": "trigger.x", "value": 1}}),
        ("yes", "workflow.notify", {"role": "admin", "title": "x is {{ trigger.x }}"}),
        edges=[("check", "true", "yes")],
        trigger={"type": "event", "event_type": "member.joined", "conditions": {"attr": "role", "value": "admin"}},
    )
    assert graph_problems(graph) == []


@pytest.mark.parametrize(
    "graph, expected",
    [
        ("nope", {"graph"}),
        (
            {
                "trigger": {"type": "telepathy"},
                "nodes": [{"id": "a", "type": "set", "parameters": {"values": {"a": 1}}}],
            },
            {"trigger.type"},
        ),
        (
            graph_of(("a", "set", {"values": {"a": 1}}), trigger={"type": "event", "event_type": "no.such"}),
            {"trigger.event_type"},
        ),
        (
            graph_of(
                ("a", "set", {"values": {"a": 1}}),
                trigger={"type": "event", "event_type": "member.joined", "conditions": {"or": []}},
            ),
            {"trigger.conditions"},
        ),
        (graph_of(), {"nodes"}),
        (graph_of(("a", "teleport")), {"nodes.0.type"}),
        (graph_of(("a", "set", {"values": {"a": 1}}), ("a", "set", {"values": {"a": 1}})), {"nodes.1.id"}),
        (graph_of(("a", "set", {"values": {"a": 1}}), edges=[("a", "out", "ghost")]), {"edges.0.to"}),
        (
            graph_of(
                ("a", "set", {"values": {"a": 1}}), ("b", "set", {"values": {"b": 1}}), edges=[("a", "sideways", "b")]
            ),
            {"edges.0.port"},
        ),
        (graph_of(("a", "set")), {"nodes.0.parameters.values"}),
        (graph_of(("a", "transform", {"expression": "foo[?"})), {"nodes.0.parameters.expression"}),
        (graph_of(("a", "set", {"values": {"x": "{{ broken"}})), {"nodes.0.parameters.values.x"}),
        (graph_of(("a", "wait", {"seconds": 1, "retries": 99})), {"nodes.0.parameters.retries"}),
        (graph_of(("a", "wait", {"seconds": 1, "timeout": 0})), {"nodes.0.parameters.timeout"}),
        (
            graph_of(("a", "condition", {"conditions": {"attr": "x", "op": "??", "value": 1}})),
            {"nodes.0.parameters.conditions"},
        ),
    ],
)
def test_each_problem_is_named_where_it_is(graph, expected):
    assert expected <= where(graph), graph_problems(graph)


def test_cycles_need_a_wait_and_every_node_must_be_reachable():
    spinning = graph_of(
        ("start", "set", {"values": {"a": 1}}),
        ("a", "set", {"values": {"a": 1}}),
        ("b", "set", {"values": {"b": 1}}),
        edges=[("start", "out", "a"), ("a", "out", "b"), ("b", "out", "a")],
    )
    [(w, why)] = [p for p in graph_problems(spinning) if p[0] == "edges"]
    assert why.startswith("the cycle a → b → a has no wait")
    waiting = graph_of(
        ("start", "set", {"values": {"a": 1}}),
        ("a", "wait", {"seconds": 60}),
        ("b", "set", {"values": {"b": 1}}),
        edges=[("start", "out", "a"), ("a", "out", "b"), ("b", "out", "a")],
    )
    assert graph_problems(waiting) == []
    island = graph_of(
        ("start", "set", {"values": {"a": 1}}),
        ("x", "wait", {"seconds": 1}),
        ("y", "wait", {"seconds": 1}),
        edges=[("x", "out", "y"), ("y", "out", "x")],
    )
    assert {"nodes.x", "nodes.y"} <= where(island)


def test_the_palette_lists_built_ins_and_registered_actions():
    types = {item["type"]: item for item in node_catalogue()}
    assert {
        "condition",
        "switch",
        "loop",
        "parallel",
        "join",
        "wait",
        "set",
        "transform",
        "approval",
        "subworkflow",
    } <= set(types)
    assert types["workflow.notify"]["source"] == "workflow"
    assert types["approval"]["ports"] == ["approved", "rejected"]
