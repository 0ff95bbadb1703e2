"""The connector actions as workflow nodes: "<connector>.<action>" with `run(config=, context=)`.

`config` holds the action's inputs and `credential`, the id of one of the tenant's connections;
`context` (the run's data) is not read: an action depends on its config and credential only.
The run happens in the schema of the tenant whose workflow runs (its connections are there).
Every failure raises apps.integrations.errors.ConnectorError (or a subclass) saying why."""

from django.db import connection as db

from apps.core.registry import WorkflowNode

from .errors import ConnectorError, CredentialError

CREDENTIAL = {"type": "integer", "minimum": 1, "description": "The id of the connection (credential) to use."}


def connection_of(config: dict):
    from .models import Connection

    pk = config.get("credential")
    if not pk:
        raise CredentialError("Choose a connection (credential) for this step.")
    try:
        return Connection.objects.get(pk=int(pk))
    except (Connection.DoesNotExist, TypeError, ValueError):
        raise CredentialError(f"There is no connection {pk}: it was deleted, or belongs to no one here.") from None


def runner(action):
    def run(*, config: dict, context: dict | None = None):
        from .services import action_run

        inputs = {k: v for k, v in (config or {}).items() if k != "credential"}
        return action_run(
            connection=connection_of(config or {}), action=action, inputs=inputs, tenant=getattr(db, "tenant", None)
        )

    run.__qualname__ = f"run[{action.key}]"
    return run


def _call_imported(*, config: dict, context: dict | None = None):
    """openapi.call: an operation of one of the tenant's imported OpenAPI documents."""
    from .connectors import Action
    from .models import ApiSpec
    from .openapi import call

    config = config or {}
    spec = ApiSpec.objects.filter(key=config.get("spec") or "").first()
    if spec is None:
        raise ConnectorError(f"There is no imported API “{config.get('spec')}”.")
    operation = next((op for op in spec.operations if op["id"] == config.get("operation")), None)
    if operation is None:
        raise ConnectorError(f"The API “{spec.title}” has no operation “{config.get('operation')}”.")
    connection = connection_of(config)
    if not connection.base_url and spec.server_url:
        connection.base_url = spec.server_url  # not saved: the document's server, for this call
    action = Action(
        f"openapi.{spec.key}.{operation['id']}",
        operation["summary"],
        "",
        operation["input_schema"],
        lambda client, inputs: call(client, operation, inputs),
    )
    from .services import action_run

    return action_run(
        connection=connection, action=action, inputs=config.get("input") or {}, tenant=getattr(db, "tenant", None)
    )


def nodes() -> list[WorkflowNode]:
    from .catalogue import connectors

    found = []
    for connector in connectors().values():
        for action in connector.actions:
            schema = dict(action.input_schema)
            schema["properties"] = {"credential": CREDENTIAL, **schema.get("properties", {})}
            schema["required"] = ["credential", *schema.get("required", [])]
            schema.pop("additionalProperties", None)  # the engine may add its own keys beside the inputs
            found.append(
                WorkflowNode(
                    key=action.key,
                    kind="action",
                    label=action.label,
                    description=action.description,
                    run=runner(action),
                    config_schema=schema,
                    output_schema=action.output_schema,
                    connector=connector.key,
                )
            )
    found.append(
        WorkflowNode(
            key="openapi.call",
            kind="action",
            label="Imported API: call an operation",
            description="Calls an operation of an OpenAPI document the organisation imported.",
            run=_call_imported,
            config_schema={
                "type": "object",
                "properties": {
                    "credential": CREDENTIAL,
                    "spec": {"type": "string", "description": "The imported document's key."},
                    "operation": {"type": "string", "description": "The operation's id."},
                    "input": {"type": "object", "description": "The operation's inputs (its input schema)."},
                },
                "required": ["credential", "spec", "operation"],
            },
            connector="openapi",
        )
    )
    return found
