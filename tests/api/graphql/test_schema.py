"""The GraphQL schema is checked in (tests/api/schema.graphql): any change to it, intended or not,
shows up here as a diff to review. Regenerate it with `make graphql`."""

import difflib
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from apps.api.graphql.schema import build, printed
from apps.core.registry import GraphQLType, registry
from apps.events.graphql import EventsQuery, EventType

SNAPSHOT = Path(__file__).parent.parent / "schema.graphql"


def test_printed_schema_is_the_checked_in_one():
    generated, expected = printed(), SNAPSHOT.read_text()
    if generated != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True), generated.splitlines(keepends=True),
            fromfile="tests/api/schema.graphql (checked in)", tofile="printed",
        )  # fmt: skip
        pytest.fail(
            "The GraphQL schema differs from tests/api/schema.graphql. If the change is intended, regenerate "
            f"it with `make graphql` and commit it.\n\n{''.join(diff)}",
            pytrace=False,
        )


def test_command_checks_and_writes_the_file(tmp_path):
    out = tmp_path / "schema.graphql"
    with pytest.raises(CommandError, match="make graphql"):
        call_command("graphql_schema", "--file", str(out), "--check")
    call_command("graphql_schema", "--file", str(out))
    assert out.read_text() == SNAPSHOT.read_text()
    call_command("graphql_schema", "--file", str(out), "--check")
    out.write_text(out.read_text().replace("eventTypes", "eventKinds"))
    with pytest.raises(CommandError):
        call_command("graphql_schema", "--file", str(out), "--check")


def test_a_root_field_claimed_twice_or_undeclared_is_refused():
    twice = GraphQLType("EventTypeAgain", EventType, ("eventTypes", "eventType"), query=EventsQuery)
    with registry.registered(twice), pytest.raises(ImproperlyConfigured, match="claimed by"):
        build()
    undeclared = GraphQLType("EventTypeUndeclared", EventType, ("eventTypes",), query=EventsQuery)
    with registry.registered(undeclared), pytest.raises(ImproperlyConfigured, match="differ"):
        build()
