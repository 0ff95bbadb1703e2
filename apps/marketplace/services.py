"""Writes: enabling, configuring, disabling and uninstalling a plugin in a tenant, each with its
event on the spine (and its audit entry, through auditlog on PluginInstall)."""

import json
import logging

import jsonschema
from django.apps import apps
from django.core import serializers
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from apps.core.events import publish
from apps.core.plugins import secret_fields
from apps.core.registry import Plugin
from apps.tenancy.models import Tenant

from . import selectors
from .migrating import plugin_migrate
from .models import PluginArchive, PluginInstall

log = logging.getLogger(__name__)
State = PluginInstall.State
ARCHIVE, REMOVE = "archive", "remove"


def _plugin(label: str) -> Plugin:
    plugin = selectors.plugin_get(label)
    if plugin is None:
        raise ValidationError({"label": [f"No plugin “{label}” is installed on this platform."]})
    return plugin


def _payload(plugin: Plugin, **extra) -> dict:
    return {"label": plugin.label, "name": plugin.name, "version": plugin.version, **extra}


def plugins_sync() -> None:
    """Makes this tenant's row for each installed plugin it has none for (a default-enabled one
    starts enabled, its tables made by the tenant's migrations)."""
    have = set(PluginInstall.objects.values_list("label", flat=True))
    PluginInstall.objects.bulk_create(
        [
            PluginInstall(label=p.label, state=State.ENABLED, tables=True)
            if p.default_enabled
            else PluginInstall(label=p.label)
            for p in selectors.installed_plugins()
            if p.label not in have
        ],
        ignore_conflicts=True,
    )


def _install(label: str) -> PluginInstall:
    plugin = _plugin(label)
    install = PluginInstall.objects.select_for_update().filter(label=label).first()
    if install is None:
        plugins_sync()
        install = PluginInstall.objects.select_for_update().get(label=plugin.label)
    return install


@transaction.atomic
def plugin_enable(*, tenant, actor, label: str) -> PluginInstall:
    """Enables the plugin for `tenant`: runs its migrations in this schema only (the first time,
    or after an uninstall), records what it asked for. A failing migration leaves it disabled
    with the reason (state "broken"): nothing it did stays, nothing else is touched."""
    plugin = _plugin(label)
    install = _install(label)
    if install.state == State.ENABLED:
        return install
    try:
        with transaction.atomic():
            plugin_migrate(label, fresh=not install.tables)
    except Exception as exc:  # noqa: BLE001 — a plugin's migration is its own problem
        log.exception("plugin %s: its migration failed in %s", label, connection.schema_name)
        return _broken(install, plugin, tenant, f"Its database migration failed: {type(exc).__name__}: {exc}")
    install.tables = True
    install.state = State.ENABLED
    install.reason = ""
    install.accepted = list(plugin.asks_for)
    install.changed_by = actor
    install.save()
    publish("plugin.enabled", _payload(plugin), tenant=tenant, actor=actor)
    return install


def _broken(install: PluginInstall, plugin: Plugin, tenant, reason: str) -> PluginInstall:
    install.state = State.BROKEN
    install.reason = reason[:2000]
    install.changed_by = None
    install.save()
    publish("plugin.disabled", _payload(plugin, reason=install.reason), tenant=tenant)
    return install


def plugin_mark_broken(label: str, reason: str) -> None:
    """The failure sink (apps.core.plugins.plugin_failed): disables the plugin in the schema
    being served, saying why."""
    plugin = selectors.plugin_get(label)
    if plugin is None or connection.schema_name == "public":
        return
    with transaction.atomic():
        install = _install(label)
        if install.state == State.ENABLED:
            _broken(install, plugin, Tenant.objects.get(schema_name=connection.schema_name), reason)


@transaction.atomic
def plugin_disable(*, tenant, actor, label: str) -> PluginInstall:
    """Disables the plugin for `tenant`: everything it adds disappears here; its data stays."""
    plugin = _plugin(label)
    install = _install(label)
    if install.state != State.ENABLED:
        raise ValidationError({"label": [f"“{plugin.name}” is not enabled."]})
    install.state = State.DISABLED
    install.reason = ""
    install.changed_by = actor
    install.save()
    publish("plugin.disabled", _payload(plugin), tenant=tenant, actor=actor)
    return install


def config_errors(plugin: Plugin, values: dict) -> dict[str, list[str]]:
    """`values` checked against the plugin's settings schema: {field: [messages]} ("" = none)."""
    errors: dict[str, list[str]] = {}
    schema = plugin.config_schema or {"type": "object"}
    for error in jsonschema.Draft202012Validator(schema).iter_errors(values):
        if error.validator == "required":
            for name in schema.get("required", []):
                if name not in values:
                    errors.setdefault(name, []).append("This setting is required.")
            continue
        field = str(error.absolute_path[0]) if error.absolute_path else "__all__"
        title = (schema.get("properties", {}).get(field) or {}).get("title", field)
        errors.setdefault(field, []).append(f"{title}: {error.message}")
    return errors


@transaction.atomic
def plugin_configure(*, tenant, actor, label: str, values: dict) -> PluginInstall:
    """Stores the plugin's settings for `tenant`, validated against its JSON Schema. Secrets
    (`writeOnly` properties) are encrypted; a secret left out keeps its current value."""
    plugin = _plugin(label)
    install = _install(label)
    if install.state == State.UNINSTALLED:
        raise ValidationError({"label": [f"“{plugin.name}” is uninstalled: enable it first."]})
    secret_names = set(secret_fields(plugin.config_schema))
    current = json.loads(install.secrets) if install.secrets else {}
    given = {k: v for k, v in values.items() if not (k in secret_names and v in (None, ""))}
    merged = {**current, **given}
    known = set(plugin.config_schema.get("properties") or {})
    unknown = sorted(set(merged) - known) if plugin.config_schema.get("additionalProperties") is False else []
    errors = config_errors(plugin, merged)
    for name in unknown:
        errors.setdefault(name, []).append(f"“{plugin.name}” has no setting “{name}”.")
    if errors:
        raise ValidationError(errors)
    install.config = {k: v for k, v in merged.items() if k not in secret_names}
    install.secrets = json.dumps({k: v for k, v in merged.items() if k in secret_names}) if secret_names else ""
    install.changed_by = actor
    install.save()
    publish("plugin.configured", _payload(plugin), tenant=tenant, actor=actor)
    return install


@transaction.atomic
def plugin_uninstall(*, tenant, actor, label: str, mode: str = ARCHIVE, confirm: str = "") -> PluginInstall:
    """Uninstalls the plugin from `tenant`: its tables are dropped, their rows first kept in a
    PluginArchive (`mode="archive"`) or removed for good (`mode="remove"`, only when `confirm`
    is the plugin's name, typed). Its settings are forgotten."""
    plugin = _plugin(label)
    if mode not in (ARCHIVE, REMOVE):
        raise ValidationError({"mode": ["Choose “archive” (keep its data) or “remove” (delete it)."]})
    if mode == REMOVE and confirm.strip().casefold() != plugin.name.casefold():
        raise ValidationError({"confirm": [f"Type the plugin's name, “{plugin.name}”, to remove its data."]})
    install = _install(label)
    if install.state == State.UNINSTALLED:
        raise ValidationError({"label": [f"“{plugin.name}” is not installed here."]})
    if install.tables:
        if mode == ARCHIVE:
            _archive(plugin, actor)
        plugin_migrate(label, to_zero=True)
    install.state = State.UNINSTALLED
    install.tables = False
    install.reason = ""
    install.config, install.secrets, install.accepted = {}, "", []
    install.changed_by = actor
    install.save()
    publish("plugin.uninstalled", _payload(plugin, mode=mode), tenant=tenant, actor=actor)
    return install


def _archive(plugin: Plugin, actor) -> PluginArchive:
    rows = []
    for model in apps.get_app_config(plugin.label).get_models():
        rows.extend(json.loads(serializers.serialize("json", model.objects.all())))
    return PluginArchive.objects.create(
        label=plugin.label, version=plugin.version, rows=len(rows), data=rows, created_by=actor
    )
