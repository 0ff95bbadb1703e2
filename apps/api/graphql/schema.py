"""The gateway's schema, made from the registry's graphql_types store: each app's `query`,
`mutation` and `subscription` types merged into one Query, one Mutation and one Subscription.
Made once per process, on first use (every app has registered by then); `printed()` is what
tests/api/schema.graphql holds."""

import functools
import logging

import strawberry
from django.core.exceptions import ImproperlyConfigured
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.tools import merge_types

from apps.core.graphql import INTERNAL, SCALARS, error_code
from apps.core.registry import registry

log = logging.getLogger(__name__)


def _fields(cls) -> set[str]:
    """The GraphQL names of a strawberry type's fields."""
    names = NameConverter()
    return {names.from_field(f) for f in cls.__strawberry_definition__.fields}


class HubSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        """Logs only what is a bug (an error the gateway answers as INTERNAL_SERVER_ERROR)."""
        for error in errors:
            original = error.original_error
            # A refusal (a field's permission) is a GraphQLError of its own, with its code: no bug.
            if original is not None and not isinstance(original, GraphQLError) and error_code(original)[0] == INTERNAL:
                log.error("GraphQL resolver failed", exc_info=original)


def build():
    """A schema from the registered types (ImproperlyConfigured if root fields are not as declared)."""
    queries, mutations, subscriptions, claimed = [], [], [], {}
    for item in registry["graphql_types"].values():
        declared = set()
        for cls, kind in ((item.query, queries), (item.mutation, mutations), (item.subscription, subscriptions)):
            if cls is not None:
                kind.append(cls)
                declared |= _fields(cls)
        if declared != set(item.root_fields):
            raise ImproperlyConfigured(
                f"GraphQL type {item.name}: root_fields {sorted(item.root_fields)} differ from its "
                f"query and mutation fields {sorted(declared)}"
            )
        for name in declared:
            if name in claimed:
                raise ImproperlyConfigured(f"GraphQL root field {name!r} is claimed by {claimed[name]} and {item.name}")
            claimed[name] = item.name
    if not queries:
        raise ImproperlyConfigured("No app registers a GraphQL query.")
    query = merge_types("Query", tuple(queries))
    mutation = merge_types("Mutation", tuple(mutations)) if mutations else None
    subscription = merge_types("Subscription", tuple(subscriptions)) if subscriptions else None
    # Queries repeat: parse and validate each text once per process, not on every request.
    # (Factories: strawberry makes each request its own extension; their caches live at module level.)
    return HubSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
    )


@functools.cache
def schema() -> HubSchema:
    return build()


def printed() -> str:
    return schema().as_str() + "\n"
