"""What an app needs to offer GraphQL fields to the gateway (apps.api.graphql), the way
apps.core.api gives its REST endpoints their base classes.

An app declares its object types and a class of root fields with strawberry, and registers them in
its ready() as a GraphQLType (apps.core.registry). Every root field names the same API scope and
role permission as its REST endpoint, through `needs()`:

    @strawberry.type
    class MembersQuery:
        @relay.connection(relay.ListConnection[Member], permission_classes=[needs("identity", "members.view")])
        def members(self, info: Info) -> Iterable[Member]:
            return member_list(tenant=context(info).tenant, ordered=False).order_by("-id")

Resolvers call the app's selectors and services, as the REST views do; a service's
ValidationError, PermissionDenied or DoesNotExist becomes a GraphQL error with a code in its
`extensions` (the gateway maps them: `error_code`).
"""

from dataclasses import dataclass
from typing import Any, NewType

import strawberry
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf
from strawberry.permission import BasePermission

from .api import scopes
from .api.authentication import Credential
from .api.exceptions import _flatten
from .registry import registry


@dataclass
class Context:
    """info.context of every resolver: the DRF request (`request.user`, `request.auth`), the Django
    request (`http`), the tenant being served and the caller's membership in it."""

    request: Any
    http: Any
    tenant: Any
    membership: Any

    @property
    def user(self):
        return self.request.user


def context(info) -> Context:
    return info.context


BigInt = NewType("BigInt", int)
# Scalars of the hub's own, for the gateway's schema config (StrawberryConfig.scalar_map).
SCALARS = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A whole number that may pass 2^31 (bytes, counts), as a JSON number (exact up to 2^53).",
        serialize=int,
        parse_value=int,
    )
}

# Codes in errors' `extensions.code` (Apollo's names where it has one).
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
CONFLICT = "CONFLICT"
INTERNAL = "INTERNAL_SERVER_ERROR"


class Needs(BasePermission):
    """A root field's scope and role permission (see needs())."""

    scope: str = ""
    permission: str = ""
    write: bool = False
    error_extensions = {"code": FORBIDDEN}

    def has_permission(self, source, info, **kwargs) -> bool:
        ctx = context(info)
        auth = ctx.request.auth
        if isinstance(auth, Credential) and not scopes.allows(auth.scopes, self.scope, self.write):
            self.message = f"This API key lacks the scope {self.scope}:{'write' if self.write else 'read'}."
            return False
        membership = ctx.membership
        if membership is None:
            self.message = "You are not a member of this organisation."
            return False
        if not membership.allows(self.permission):
            declared = registry["permissions"].get(self.permission)
            takes = f": it takes “{declared.label}” ({declared.role} or above)" if declared else ""
            self.message = f"Your role ({membership.role}) does not allow this{takes}."
            return False
        return True


def needs(scope: str, permission: str, *, write: bool = False) -> type[Needs]:
    """The permission class of a root field: an API key must carry `<scope>:read` (`:write` for a
    mutation), and the caller's role must grant `permission` — what the REST endpoint asks."""
    return type(
        f"Needs_{scope}_{permission.replace('.', '_')}{'_write' if write else ''}",
        (Needs,),
        {"scope": scope, "permission": permission, "write": write},
    )


def pk_of(id) -> int:
    """An object's id argument as a number (one that is no number, or too big, finds nothing)."""
    text = str(id)
    return int(text) if text.isdigit() and len(text) <= 18 else 0


def filtered_by_choice(rows, name: str, value: str | None, choices):
    """`rows` whose field `name` is `value` (all of them for None), or BAD_USER_INPUT naming the
    argument `name` for a value that is not one of `choices` (a TextChoices)."""
    if value is None:
        return rows
    if value not in choices.values:
        raise ValidationError({name: [f"Choose one of {', '.join(choices.values)}."]})
    return rows.filter(**{name: value})


def needs_of(field) -> Needs | None:
    """The Needs class of a strawberry field (None if it declares none)."""
    for cls in getattr(field, "permission_classes", None) or ():
        if isinstance(cls, type) and issubclass(cls, Needs):
            return cls
    return None


def error_code(error: BaseException) -> tuple[str, str, dict]:
    """(code, message, more extensions) for an exception a resolver raised; INTERNAL for a bug."""
    if isinstance(error, ValidationError):
        fields = error.message_dict if hasattr(error, "error_dict") else {}
        errors = [{"field": f, "message": m} for f, messages in fields.items() for m in messages]
        message = " ".join(error.messages) if not errors else "Check the fields named in errors."
        return BAD_USER_INPUT, message, ({"errors": errors} if errors else {})
    if isinstance(error, drf.ValidationError):
        errors = [{"field": f, "message": m} for f, m, _ in _flatten(error.detail)]
        return BAD_USER_INPUT, "Check the fields named in errors.", {"errors": errors}
    if isinstance(error, DjangoPermissionDenied | drf.PermissionDenied):
        return FORBIDDEN, str(error) or "You do not have permission to do this.", {}
    if isinstance(error, ObjectDoesNotExist | Http404 | drf.NotFound):
        return NOT_FOUND, "Not found.", {}
    if isinstance(error, drf.APIException):
        code = CONFLICT if error.status_code == 409 else BAD_USER_INPUT
        return code, str(error.detail), {}
    return INTERNAL, "Something went wrong on our side. It has been logged.", {}


@strawberry.type
class Deleted:
    """What a mutation that removes something answers."""

    id: strawberry.ID
    ok: bool = True
