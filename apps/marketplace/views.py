"""The plugins page of a tenant's admins: the installed plugins (a data table), and one plugin's
page: what it asks for and enabling it, its settings form (from its JSON Schema), disabling and
uninstalling it. Thin: validate, call a service, render."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.plugins import secret_fields
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required

from . import selectors, services
from .forms import UninstallForm, form_values, settings_form
from .models import PluginInstall
from .tables import PluginsTable

MANAGE = "marketplace.manage"


@tenant_member_required(MANAGE)
def index(request):
    services.plugins_sync()
    table = data_table(request, PluginsTable, selectors.install_list())
    return table.response or render(request, "marketplace/index.html", {"table": table})


def _plugin_and_install(label):
    plugin = selectors.plugin_get(label)
    if plugin is None:
        raise Http404("No such plugin.")
    services.plugins_sync()
    return plugin, selectors.install_get(label)


def _page(request, plugin, install, *, form=None, uninstall=None, status=200):
    secrets_set = set(json.loads(install.secrets)) if install.secrets else set()
    if form is None:
        initial = {**{k: v.get("default") for k, v in (plugin.config_schema.get("properties") or {}).items()}}
        initial.update(install.config)
        form = settings_form(plugin, initial=initial, secrets_set=secrets_set)
    context = {
        "plugin": plugin,
        "install": install,
        "asks_for": selectors.permission_words(plugin),
        "form": form if plugin.config_schema else None,
        "uninstall": uninstall or UninstallForm(),
        "enabled": install.state == PluginInstall.State.ENABLED,
        "installed": install.state != PluginInstall.State.UNINSTALLED,
        "secret_names": secret_fields(plugin.config_schema),
    }
    return render(request, "marketplace/plugin.html", context, status=status)


@tenant_member_required(MANAGE)
def plugin_detail(request, label):
    plugin, install = _plugin_and_install(label)
    if request.method != "POST":
        return _page(request, plugin, install)
    secrets_set = set(json.loads(install.secrets)) if install.secrets else set()
    form = settings_form(plugin, data=request.POST, secrets_set=secrets_set)
    if form.is_valid():
        try:
            services.plugin_configure(
                tenant=request.tenant, actor=request.user, label=label, values=form_values(plugin, form)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"The settings of “{plugin.name}” are saved.")
            return redirect("marketplace:plugin", label=label)
    return _page(request, plugin, install, form=form, status=400)


@require_POST
@tenant_member_required(MANAGE)
def plugin_enable(request, label):
    plugin, _ = _plugin_and_install(label)
    install = services.plugin_enable(tenant=request.tenant, actor=request.user, label=label)
    if install.state == PluginInstall.State.ENABLED:
        messages.success(request, f"“{plugin.name}” is enabled.")
    else:
        messages.error(request, f"“{plugin.name}” could not be enabled. {install.reason}")
    return redirect("marketplace:plugin", label=label)


@require_POST
@tenant_member_required(MANAGE)
def plugin_disable(request, label):
    plugin, _ = _plugin_and_install(label)
    try:
        services.plugin_disable(tenant=request.tenant, actor=request.user, label=label)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{plugin.name}” is disabled. Its data is kept.")
    return redirect("marketplace:plugin", label=label)


@require_POST
@tenant_member_required(MANAGE)
def plugin_uninstall(request, label):
    plugin, install = _plugin_and_install(label)
    form = UninstallForm(request.POST)
    if form.is_valid():
        try:
            services.plugin_uninstall(tenant=request.tenant, actor=request.user, label=label, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            kept = (
                "A copy of its data is archived." if form.cleaned_data["mode"] == "archive" else "Its data is deleted."
            )
            messages.success(request, f"“{plugin.name}” is uninstalled. {kept}")
            return redirect("marketplace:index")
    return _page(request, plugin, install, uninstall=form, status=400)
