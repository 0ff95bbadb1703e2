"""The graph of a workflow: its shape, the node types it may use and what each needs, and the
checks before a version is published.

    {"trigger": {"type": "event", "event_type": "member.joined", "conditions": {...}}
              | {"type": "schedule", "cron": "0 9 * * 1-5"}
              | {"type": "manual", "inputs": [{"name": "email", "required": true}]}
              | {"type": "webhook"},
     "nodes": [{"id": "n1", "type": "notify", "parameters": {...}, "position": {"x": 0, "y": 0}}],
     "edges": [{"from": "n1", "port": "out", "to": "n2"}]}

Nodes without an incoming edge start the run. Every node may also leave by the port "error"
(when it fails after its retries) if an edge says where to go; otherwise a failing step fails the
run. Every node takes `retries`, `backoff` (seconds, doubled each retry) and `timeout` (seconds).
Built-in node types are listed in BUILTINS; the others are the registry's "action" workflow nodes
(apps.core.registry.WorkflowNode: notify, call HTTP, and whatever other apps and plugins add).
"""

from dataclasses import dataclass, field

from celery.schedules import crontab

from apps.core.registry import registry

from . import conditions, expressions

TRIGGERS = {
    "event": "When an event happens",
    "schedule": "On a schedule",
    "manual": "When someone starts it",
    "webhook": "When its webhook is called",
}
COMMON_PARAMETERS = {"retries", "backoff", "timeout"}
MAX_RETRIES = 10
MAX_TIMEOUT = 3600


@dataclass(frozen=True)
class Builtin:
    label: str
    description: str
    ports: tuple[str, ...] = ("out",)
    required: tuple[str, ...] = ()
    expression_fields: tuple[str, ...] = ()  # JMESPath expressions among its parameters
    dynamic_ports: bool = False  # a switch: its ports are its cases'
    config_schema: dict = field(default_factory=dict)


BUILTINS = {
    "condition": Builtin(
        "Condition",
        "Goes on by “true” or “false” as the condition set holds for the run's data.",
        ("true", "false"),
        ("conditions",),
    ),
    "switch": Builtin(
        "Switch",
        "Goes on by the port of the first case whose value equals the expression's, else “default”.",
        ("default",),
        ("value", "cases"),
        ("value",),
        dynamic_ports=True,
    ),
    "loop": Builtin(
        "Loop over a list",
        "Runs the nodes after “item” once for each element of the list (as item and index), then “done”.",
        ("item", "done"),
        ("items",),
        ("items",),
    ),
    "parallel": Builtin("Parallel branches", "Starts every branch connected to it at once.", ("out",)),
    "join": Builtin("Join", "Waits until every branch leading into it has arrived.", ("out",)),
    "wait": Builtin(
        "Wait",
        "Waits a number of seconds, until a time, or for an event (whose payload meets conditions): "
        "goes on by “out”, or by “timeout” when an event's wait runs out of time first.",
        ("out", "timeout"),
    ),
    "set": Builtin(
        "Set variables", "Sets run variables (vars.<name>) from values or templates.", ("out",), ("values",)
    ),
    "transform": Builtin(
        "Transform data",
        "Reshapes data with a JMESPath expression (or one per field).",
        ("out",),
        expression_fields=("expression",),
    ),
    "approval": Builtin(
        "Human approval",
        "Asks a person (or anyone with a role) to approve or reject; goes on by “approved” or “rejected”. "
        "Undecided after `escalate_after` seconds, it goes to `escalate_to` (a person or a role; the owners).",
        ("approved", "rejected"),
        ("title",),
    ),
    "subworkflow": Builtin(
        "Sub-workflow",
        "Runs another (published) workflow with inputs and waits for it to finish.",
        ("out",),
        ("workflow",),
    ),
}


def node_catalogue() -> list[dict]:
    """Every node type a graph may use now: the built-ins and the registry's actions (the
    builder's palette)."""
    items = [
        {
            "type": key,
            "label": b.label,
            "description": b.description,
            "ports": list(b.ports),
            "required": list(b.required),
            "source": "built-in",
        }
        for key, b in BUILTINS.items()
    ]
    for key, node in registry["workflow_nodes"].items():
        if node.kind == "action":
            items.append(
                {
                    "type": key,
                    "label": node.label,
                    "description": node.description,
                    "ports": ["out"],
                    "source": registry["workflow_nodes"].app_of(key) or "plugin",
                    "config_schema": node.config_schema,
                    "output_schema": node.output_schema,
                }
            )
    return items


def _palette_item(item: dict) -> dict:
    """A node_catalogue() item as the builder shows it: each parameter's type, choices and
    description only, and the names of an action's outputs."""

    def field(schema: dict) -> dict:
        return {k: schema[k] for k in ("type", "enum", "description") if k in schema}

    config, output = item.pop("config_schema", None) or {}, item.pop("output_schema", None) or {}
    if config.get("properties"):
        item["fields"] = {name: field(schema) for name, schema in config["properties"].items()}
        item["required"] = list(config.get("required", []))
    item["outputs"] = list((output.get("properties") or {}).keys())
    return item


def builder_palette() -> list[dict]:
    """node_catalogue() as the builder needs it (static/hub/builder.js). The integration hub's
    actions (two thousand, of 130 services) come as one item per service, {"connector", "source":
    its name, "actions": [[the key after "<connector>.", label], …]}, their parameters fetched
    when a step of one is placed or opened (palette_detail); the rest with their parameters."""
    items, services = [], {}
    nodes = registry["workflow_nodes"]
    for item in node_catalogue():
        node = nodes.get(item["type"]) if item["source"] != "built-in" else None
        connector = getattr(node, "connector", "")
        if connector and item["type"].startswith(connector + "."):
            name, _, label = item["label"].partition(": ")
            group = services.setdefault(connector, {"connector": connector, "source": name, "actions": []})
            group["actions"].append([item["type"][len(connector) + 1 :], (label or name)[:80]])
            continue
        items.append(_palette_item(item))
    return items + list(services.values())


def palette_detail(node_type: str) -> dict | None:
    """One node type as builder_palette() would show it with its parameters (None if unknown)."""
    item = next((i for i in node_catalogue() if i["type"] == node_type), None)
    return _palette_item(item) if item else None


def action_of(node_type: str):
    node = registry["workflow_nodes"].get(node_type)
    return node if node is not None and node.kind == "action" else None


def known_type(node_type: str) -> bool:
    return node_type in BUILTINS or action_of(node_type) is not None


def ports_of(node: dict) -> set[str]:
    builtin = BUILTINS.get(node.get("type"))
    if builtin is None:
        return {"out", "error"}
    ports = set(builtin.ports) | {"error"}
    if builtin.dynamic_ports:
        for case in (node.get("parameters") or {}).get("cases") or []:
            if isinstance(case, dict) and isinstance(case.get("port"), str):
                ports.add(case["port"])
    return ports


def cron_of(text: str) -> crontab:
    """celery's crontab from five fields "minute hour day-of-month month day-of-week"."""
    parts = (text or "").split()
    if len(parts) != 5:
        raise ValueError("a schedule is five fields: minute hour day-of-month month day-of-week, e.g. “0 9 * * 1-5”")
    minute, hour, day_of_month, month, day_of_week = parts
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month, day_of_week=day_of_week)


def cron_matches(text: str, moment) -> bool:
    """Whether the minute of `moment` (in its own time zone) is one of the schedule's."""
    spec = cron_of(text)
    return (
        moment.minute in spec.minute
        and moment.hour in spec.hour
        and moment.day in spec.day_of_month
        and moment.month in spec.month_of_year
        and moment.isoweekday() % 7 in spec.day_of_week
    )


def _trigger_problems(trigger) -> list[tuple[str, str]]:
    if not isinstance(trigger, dict) or trigger.get("type") not in TRIGGERS:
        return [("trigger.type", f"choose a trigger: {', '.join(TRIGGERS)}")]
    kind = trigger["type"]
    found = []
    if kind == "event":
        event_type = trigger.get("event_type")
        if event_type not in registry["event_types"]:
            found.append(("trigger.event_type", f"“{event_type}” is not an event type of this hub"))
        problem = conditions.condition_problem(trigger.get("conditions"))
        if problem:
            found.append(("trigger.conditions", problem))
    elif kind == "schedule":
        try:
            cron_of(trigger.get("cron", ""))
        except (ValueError, TypeError) as exc:
            found.append(("trigger.cron", str(exc)))
    elif kind == "manual":
        inputs = trigger.get("inputs", [])
        if not isinstance(inputs, list) or not all(isinstance(i, dict) and i.get("name") for i in inputs):
            found.append(("trigger.inputs", "a list of inputs, each with a name"))
    return found


def _node_problems(node: dict, where: str) -> list[tuple[str, str]]:
    found = []
    node_type = node.get("type")
    parameters = node.get("parameters", {})
    if not isinstance(parameters, dict):
        return [(f"{where}.parameters", "parameters are an object")]
    if not known_type(node_type):
        found.append((f"{where}.type", f"“{node_type}” is not a node type of this hub (is its app installed?)"))
    builtin = BUILTINS.get(node_type)
    for name in builtin.required if builtin else ():
        if parameters.get(name) in (None, "", [], {}):
            found.append((f"{where}.parameters.{name}", "this parameter is required"))
    for name in builtin.expression_fields if builtin else ():
        if name in parameters:
            problem = expressions.expression_problem(parameters[name])
            if problem:
                found.append((f"{where}.parameters.{name}", problem))
    if node_type == "condition" and "conditions" in parameters:
        problem = conditions.condition_problem(parameters["conditions"])
        if problem:
            found.append((f"{where}.parameters.conditions", problem))
    if node_type == "switch" and not all(
        isinstance(c, dict) and isinstance(c.get("port"), str) and "value" in c for c in parameters.get("cases") or []
    ):
        found.append((f"{where}.parameters.cases", "each case has a port (a name) and a value"))
    if node_type == "transform" and "expression" not in parameters and not isinstance(parameters.get("fields"), dict):
        found.append((f"{where}.parameters", "give an expression, or fields (name → expression)"))
    if node_type == "transform" and isinstance(parameters.get("fields"), dict):
        for name, expression in parameters["fields"].items():
            problem = expressions.expression_problem(expression)
            if problem:
                found.append((f"{where}.parameters.fields.{name}", problem))
    if node_type == "wait":
        found.extend(_wait_problems(parameters, where))
    if node_type == "approval" and "escalate_after" in parameters:
        after = parameters["escalate_after"]
        if isinstance(after, bool) or not isinstance(after, int | float) or after <= 0:
            found.append((f"{where}.parameters.escalate_after", "a number of seconds, more than 0"))
    elif node_type == "approval" and parameters.get("escalate_to"):
        found.append((f"{where}.parameters.escalate_after", "say after how many seconds it goes up"))
    retries, timeout = parameters.get("retries", 0), parameters.get("timeout", 60)
    if not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        found.append((f"{where}.parameters.retries", f"a whole number from 0 to {MAX_RETRIES}"))
    if not isinstance(timeout, int | float) or not 0 < timeout <= MAX_TIMEOUT:
        found.append((f"{where}.parameters.timeout", f"seconds, more than 0 and at most {MAX_TIMEOUT}"))
    for text in expressions.problems({k: v for k, v in parameters.items() if k not in ("conditions",)}):
        found.append((f"{where}.{text.split(':', 1)[0]}", text.split(":", 1)[1].strip()))
    return found


def _wait_problems(parameters: dict, where: str) -> list[tuple[str, str]]:
    event = parameters.get("event")
    if not event and "seconds" not in parameters and "until" not in parameters:
        return [(f"{where}.parameters", "wait a number of seconds, until a time, or for an event")]
    if event and event not in registry["event_types"]:
        return [(f"{where}.parameters.event", f"“{event}” is not an event type of this hub")]
    problem = conditions.condition_problem(parameters.get("conditions")) if event else None
    return [(f"{where}.parameters.conditions", problem)] if problem else []


def graph_problems(graph) -> list[tuple[str, str]]:
    """What keeps `graph` from being published: (where, why) pairs; [] when it may be."""
    if not isinstance(graph, dict):
        return [("graph", "a graph is an object with a trigger, nodes and edges")]
    found = _trigger_problems(graph.get("trigger"))
    nodes, edges = graph.get("nodes"), graph.get("edges", [])
    if not isinstance(nodes, list) or not nodes:
        return [*found, ("nodes", "a workflow has at least one node")]
    if not isinstance(edges, list):
        return [*found, ("edges", "edges are a list")]
    by_id = {}
    for i, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not node["id"]:
            found.append((f"nodes.{i}.id", "each node has an id (text)"))
            continue
        if node["id"] in by_id:
            found.append((f"nodes.{i}.id", f"the id “{node['id']}” is used twice"))
        by_id[node["id"]] = node
        found.extend(_node_problems(node, f"nodes.{i}"))
    incoming = {node_id: 0 for node_id in by_id}
    for i, edge in enumerate(edges):
        if not isinstance(edge, dict):
            found.append((f"edges.{i}", "an edge is an object: from, port, to"))
            continue
        source, target, port = edge.get("from"), edge.get("to"), edge.get("port", "out")
        if source not in by_id:
            found.append((f"edges.{i}.from", f"no node “{source}”: the edge dangles"))
        elif port not in ports_of(by_id[source]):
            found.append(
                (f"edges.{i}.port", f"“{source}” has no port “{port}” ({', '.join(sorted(ports_of(by_id[source])))})")
            )
        if target not in by_id:
            found.append((f"edges.{i}.to", f"no node “{target}”: the edge dangles"))
        else:
            incoming[target] += 1
    starts = [node_id for node_id, count in incoming.items() if count == 0]
    if by_id and not starts:
        found.append(("nodes", "no node starts the run (every node has an incoming edge)"))
    reachable = _reachable(starts, edges)
    for node_id in by_id:
        if node_id not in reachable:
            found.append((f"nodes.{node_id}", f"“{node_id}” cannot be reached from the start"))
    cycle = _cycle_without_wait(by_id, edges)
    if cycle:
        found.append(
            ("edges", f"the cycle {' → '.join(cycle)} has no wait: it would spin (use a loop node, or add a wait)")
        )
    return found


def _successors(edges) -> dict:
    out = {}
    for edge in edges:
        if isinstance(edge, dict):
            out.setdefault(edge.get("from"), []).append(edge.get("to"))
    return out


def _reachable(starts, edges) -> set:
    succ, seen, stack = _successors(edges), set(), list(starts)
    while stack:
        node_id = stack.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        stack.extend(succ.get(node_id, []))
    return seen


def _cycle_without_wait(by_id, edges) -> list[str] | None:
    """A cycle none of whose nodes is a wait, as the list of its node ids, or None."""
    succ = {k: [t for t in v if t in by_id and by_id[t].get("type") != "wait"] for k, v in _successors(edges).items()}
    colour, path = {}, []

    def visit(node_id):
        colour[node_id] = 1
        path.append(node_id)
        for nxt in succ.get(node_id, []):
            if colour.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in colour:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        colour[node_id] = 2
        return None

    for node_id, node in by_id.items():
        if node_id not in colour and node.get("type") != "wait":
            found = visit(node_id)
            if found:
                return found
    return None


def missing_types(graph) -> list[str]:
    """Node types the graph uses that this hub no longer has (an app or plugin removed)."""
    nodes = (graph or {}).get("nodes") or []
    return sorted({n.get("type") for n in nodes if isinstance(n, dict) and not known_type(n.get("type"))})


def problems_for_people(graph) -> list[dict]:
    """graph_problems() as the builder shows them while the graph is edited: each problem with the
    node it is about (its id, or None for the trigger or the graph as a whole) and a sentence
    (“Step “tell”, title: this parameter is required”), the check's own `where` kept for the API."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    nodes = nodes if isinstance(nodes, list) else []
    edges = graph.get("edges") if isinstance(graph, dict) else None
    edges = edges if isinstance(edges, list) else []
    ids = {n.get("id") for n in nodes if isinstance(n, dict)}
    found = []
    for where, why in graph_problems(graph):
        parts = where.split(".")
        node, subject = None, "The workflow"
        if parts[0] == "trigger":
            subject = "The trigger" + (f", {parts[1].replace('_', ' ')}" if len(parts) > 1 else "")
        elif parts[0] == "nodes" and len(parts) > 1:
            if parts[1].isdigit() and int(parts[1]) < len(nodes) and isinstance(nodes[int(parts[1])], dict):
                node = nodes[int(parts[1])].get("id")
            elif parts[1] in ids:
                node = parts[1]
            rest = [p for p in parts[2:] if p != "parameters"]
            subject = f"Step “{node}”" if node else f"Step {int(parts[1]) + 1}" if parts[1].isdigit() else "A step"
            subject += f", {'.'.join(rest)}" if rest else ""
        elif parts[0] == "edges" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(edges):
            edge = edges[int(parts[1])] if isinstance(edges[int(parts[1])], dict) else {}
            node = edge.get("from") if edge.get("from") in ids else None
            subject = f"The connection {edge.get('from')} ({edge.get('port', 'out')}) → {edge.get('to')}"
        found.append({"where": where, "node": node if isinstance(node, str) else None, "text": f"{subject}: {why}"})
    return found


def _sample_of(schema: dict, depth: int = 0):
    if not isinstance(schema, dict) or depth > 4:
        return None
    for key in ("examples", "example", "default", "const"):
        if key in schema:
            value = schema[key]
            return value[0] if key == "examples" and isinstance(value, list) and value else value
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {name: _sample_of(sub, depth + 1) for name, sub in (schema.get("properties") or {}).items()}
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": []}.get(kind)


def trigger_sample(trigger) -> dict:
    """A sample of what the trigger gives a run, for the builder's test run: an event's payload
    made from its type's payload schema (its examples where it has some), a manual trigger's
    inputs (empty), a schedule's minute; {} for a webhook (its body is the caller's)."""
    if not isinstance(trigger, dict):
        return {}
    if trigger.get("type") == "event":
        event = registry["event_types"].get(trigger.get("event_type"))
        sample = _sample_of(event.payload_schema) if event is not None else None
        return sample if isinstance(sample, dict) else {}
    if trigger.get("type") == "manual" and isinstance(trigger.get("inputs"), list):
        return {i["name"]: "" for i in trigger["inputs"] if isinstance(i, dict) and isinstance(i.get("name"), str)}
    if trigger.get("type") == "schedule":
        return {"scheduled_for": "2030-01-07T09:00:00+00:00"}
    return {}


def inputs_missing(trigger, inputs: dict) -> list[str]:
    """The required inputs of a manual trigger that `inputs` leaves empty."""
    if not isinstance(trigger, dict) or trigger.get("type") != "manual":
        return []
    declared = trigger.get("inputs") if isinstance(trigger.get("inputs"), list) else []
    return [
        i["name"] for i in declared if isinstance(i, dict) and i.get("required") and inputs.get(i["name"]) in (None, "")
    ]
