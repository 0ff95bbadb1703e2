"""Export and erasure of a person's data, derived from what an app declares it holds.

An app lists its models that hold personal data (registry.PersonalData: fields, categories, purpose,
what erasure does) and registers them with `personal_data_parts(key, label, holds)`: the export
reads each model's rows that refer to the person (any foreign key or many-to-many to the user
model), the eraser deletes them, anonymises them (every reference to the person set to nothing, the
person's address blanked from e-mail fields) or keeps them, as declared. An app whose data needs
more (content's comments lose their text) registers its own functions with the same `holds`.
A model whose table is not in the schema being served (a plugin's tables exist only in the schemas
of tenants that enabled it, and stay while it is disabled) holds nothing there and is skipped.
"""

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import Q

from .registry import DataEraser, DataExporter, PersonalData


def user_references(model) -> list[str]:
    """The names of `model`'s fields that point at a person (foreign keys and many-to-many)."""
    user_model = get_user_model()
    return [
        f.name
        for f in model._meta.get_fields()
        if (f.many_to_one or f.many_to_many) and not f.auto_created and f.related_model is user_model
    ]


def email_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, models.EmailField)]


def _rows_of(model, user):
    refers = Q(pk__in=[])
    for name in user_references(model):
        refers |= Q(**{name: user})
    for name in email_fields(model):
        refers |= Q(**{f"{name}__iexact": user.email})
    return model.objects.filter(refers).distinct()


def _here(holds: tuple[PersonalData, ...]):
    """(declaration, model) of the declared models whose tables are in the schema being served."""
    tables = set(connection.introspection.table_names())
    for held in holds:
        model = apps.get_model(held.model)
        if model._meta.db_table in tables:
            yield held, model


def export_held(holds: tuple[PersonalData, ...], *, user) -> dict:
    """{model label: [rows]} of what refers to the person, the declared fields of each."""
    out = {}
    for held, model in _here(holds):
        out[held.model] = list(_rows_of(model, user).order_by("pk").values("pk", *held.fields))
    return out


def erase_held(holds: tuple[PersonalData, ...], *, user) -> int:
    """Deletes or anonymises, as each model declares, what refers to the person; returns how many
    rows changed (kept models are left as they are)."""
    count = 0
    with transaction.atomic():
        for held, model in _here(holds):
            if held.erasure == "delete":
                count += model.objects.filter(pk__in=_rows_of(model, user).values("pk")).delete()[0]
            elif held.erasure == "anonymise":
                for name in user_references(model):
                    field = model._meta.get_field(name)
                    if field.many_to_many:
                        through = field.remote_field.through.objects
                        count += through.filter(**{field.m2m_reverse_field_name(): user}).delete()[0]
                    else:
                        count += model.objects.filter(**{name: user}).update(**{name: None})
                for name in email_fields(model):
                    count += model.objects.filter(**{f"{name}__iexact": user.email}).update(**{name: ""})
    return count


@dataclass(frozen=True)
class _Held:
    """export_held or erase_held bound to the models an app declares (equal when they are, so a
    ready() that runs twice registers the same item again)."""

    action: object
    holds: tuple[PersonalData, ...]

    def __call__(self, *, user):
        return self.action(self.holds, user=user)


def personal_data_parts(key: str, label: str, holds: tuple[PersonalData, ...]) -> tuple[DataExporter, DataEraser]:
    """The exporter and eraser of an app whose models need nothing beyond what they declare."""
    return (
        DataExporter(key, label, _Held(export_held, holds), holds=holds),
        DataEraser(key, label, _Held(erase_held, holds)),
    )
