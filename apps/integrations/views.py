"""The integration pages: connections (list, new — a form per kind of credential —, one
connection with its test, delete) and imported APIs (list, import, one API's actions). Thin:
validate, call a service, render. Members see them; admins change them."""

import time
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.middleware import csp_with_form_action
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required
from apps.identity.roles import has_permission

from . import selectors, services
from .catalogue import connectors
from .errors import ConnectorError
from .forms import FORMS, ChooseForm, ImportForm, initial_of
from .models import AUTH_TYPES, ApiSpec, Connection
from .tables import TONES, ApisTable, ConnectionsTable, OperationsTable

EDIT = "integrations.edit"


def _can_edit(request) -> bool:
    return has_permission(request.membership.role, EDIT)


@tenant_member_required("integrations.view")
def index(request):
    can_edit = _can_edit(request)
    empty = ("New connection", reverse("integrations:new")) if can_edit else None
    table = data_table(request, ConnectionsTable, selectors.connection_list(), empty_action=empty)
    return table.response or render(
        request,
        "integrations/index.html",
        {"table": table, "can_edit": can_edit, "connectors": connectors().values()},
    )


def _apply(form, exc: ValidationError) -> None:
    """A service's errors on the form's fields ("secrets.token" → token, "settings.client_id" → client_id)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        name = field.split(".", 1)[-1]
        name = {"name": "name_of_key"}.get(name, name) if field == "settings.name" else name
        form.add_error(name if name in form.fields else None, errors)


@tenant_member_required(EDIT)
def connection_new(request):
    all_connectors = connectors()
    choose = ChooseForm(request.GET or None, connectors=all_connectors)
    if not choose.is_valid():
        return render(request, "integrations/choose.html", {"choose": ChooseForm(connectors=all_connectors)})
    connector = all_connectors[choose.cleaned_data["connector"]]
    auth_type = choose.cleaned_data["auth_type"]
    if auth_type not in connector.auth_types:
        choose.add_error("auth_type", f"{connector.label} takes: {', '.join(connector.auth_types)}.")
        return render(request, "integrations/choose.html", {"choose": choose}, status=400)
    form_class = FORMS[auth_type]
    initial = {"base_url": connector.default_base_url}
    if auth_type == "oauth2" and connector.oauth_endpoints:
        initial["authorize_url"], initial["token_url"] = connector.oauth_endpoints
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.connection_create(
                tenant=request.tenant, actor=request.user, connector=connector.key, auth_type=auth_type, **form.values()
            )
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, f"Connection “{connection.name}” added. Test it to see that it works.")
            return redirect("integrations:connection", pk=connection.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "connector": connector, "auth_label": dict(AUTH_TYPES)[auth_type]}
    return render(request, "integrations/new.html", context, status=status)


@tenant_member_required("integrations.view")
def connection_detail(request, pk):
    # Looked up in the tenant's own schema: another tenant's connections do not exist here.
    connection = get_object_or_404(Connection, pk=pk)
    can_edit = _can_edit(request)
    form_class = FORMS[connection.auth_type]
    if request.method == "POST":
        if not can_edit:
            return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
        form = form_class(request.POST, editing=True)
        if form.is_valid():
            try:
                services.connection_update(
                    tenant=request.tenant, actor=request.user, connection=connection, **form.values()
                )
            except ValidationError as exc:
                _apply(form, exc)
            else:
                messages.success(request, f"Connection “{connection.name}” saved.")
                return redirect("integrations:connection", pk=connection.pk)
        connection.refresh_from_db()
        status = 400
    else:
        form, status = form_class(initial=initial_of(connection), editing=True), 200
    authorize_url = connection.settings.get("authorize_url", "") if connection.auth_type == "oauth2" else ""
    context = {
        "connection": connection,
        "form": form,
        "can_edit": can_edit,
        "connector": connectors().get(connection.connector),
        "tone": TONES.get(connection.status, "neutral"),
        "consent": bool(authorize_url),
        "redirect_uri": _redirect_uri(request) if connection.auth_type == "oauth2" else "",
    }
    response = render(request, "integrations/connection.html", context, status=status)
    if authorize_url:  # "Connect" posts here, answered by a redirect to the provider
        parts = urlsplit(authorize_url)
        response["Content-Security-Policy"] = csp_with_form_action(f"{parts.scheme}://{parts.netloc}")
    return response


@require_POST
@tenant_member_required(EDIT)
def connection_test(request, pk):
    connection = get_object_or_404(Connection, pk=pk)
    ok, reason = services.connection_test(tenant=request.tenant, actor=request.user, connection=connection)
    (messages.success if ok else messages.error)(request, f"{'It works' if ok else 'It does not work'}: {reason}")
    return redirect("integrations:connection", pk=connection.pk)


# --- OAuth 2.0 consent --------------------------------------------------------------------------

CONSENTS = "integrations_oauth"  # the session's pending consents: state -> {connection, verifier, at}
CONSENT_SECONDS = 600


def _redirect_uri(request) -> str:
    """Where the provider sends the admin back: this tenant's callback (register it with the provider)."""
    return request.build_absolute_uri(reverse("integrations:oauth_callback"))


@require_POST
@tenant_member_required(EDIT)
def connection_connect(request, pk):
    """Sends the admin to the provider's consent page (a state and a PKCE verifier kept in their
    session for the way back)."""
    connection = get_object_or_404(Connection, pk=pk)
    try:
        consent = services.oauth_consent_start(connection=connection, redirect_uri=_redirect_uri(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("integrations:connection", pk=connection.pk)
    now = time.time()
    pending = {k: v for k, v in request.session.get(CONSENTS, {}).items() if now - v["at"] < CONSENT_SECONDS}
    pending[consent.state] = {"connection": connection.pk, "verifier": consent.verifier, "at": now}
    request.session[CONSENTS] = dict(list(pending.items())[-5:])  # a few tabs at once, no more
    return redirect(consent.url)


@tenant_member_required(EDIT)
def oauth_callback(request):
    """The provider's way back: the code exchanged for tokens when the state is one this session
    started (within CONSENT_SECONDS), on this tenant's host; every other case says why."""
    pending = request.session.get(CONSENTS, {})
    started = pending.pop(request.GET.get("state", ""), None)
    request.session[CONSENTS] = pending
    connection = Connection.objects.filter(pk=started["connection"]).first() if started else None
    if connection is None or time.time() - started["at"] >= CONSENT_SECONDS:
        messages.error(
            request, "This answer from the provider was not asked for here, or came too late. Connect again."
        )
        return redirect("integrations:index")
    back = redirect("integrations:connection", pk=connection.pk)
    refused = request.GET.get("error")
    if refused or not request.GET.get("code"):
        reason = request.GET.get("error_description") or refused or "no authorization code"
        messages.error(request, f"The provider did not connect “{connection.name}”: {reason[:300]}.")
        return back
    try:
        words = services.oauth_consent_finish(
            tenant=request.tenant,
            actor=request.user,
            connection=connection,
            code=request.GET["code"],
            verifier=started["verifier"],
            redirect_uri=_redirect_uri(request),
        )
    except ConnectorError as exc:  # CredentialError included: the provider's reason
        messages.error(request, f"“{connection.name}” is not connected: {exc.message}")
        return back
    messages.success(request, f"“{connection.name}” is connected. {words}")
    return back


@require_POST
@tenant_member_required(EDIT)
def connection_delete(request, pk):
    connection = get_object_or_404(Connection, pk=pk)
    services.connection_delete(tenant=request.tenant, actor=request.user, connection=connection)
    messages.success(request, f"Connection “{connection.name}” deleted.")
    return redirect("integrations:index")


@tenant_member_required("integrations.view")
def apis(request):
    can_edit = _can_edit(request)
    form = ImportForm()
    if request.method == "POST":
        if not can_edit:
            return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data.get("document")
            try:
                spec = services.spec_import(
                    tenant=request.tenant,
                    actor=request.user,
                    document=upload.read() if upload else "",
                    url=form.cleaned_data.get("url", ""),
                    key=form.cleaned_data.get("key", ""),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Imported “{spec.title}”: {len(spec.operations)} actions.")
                return redirect("integrations:api", pk=spec.pk)
    table = data_table(request, ApisTable, selectors.spec_list())
    if table.response:
        return table.response
    status = 400 if form.errors else 200
    return render(
        request, "integrations/apis.html", {"table": table, "form": form, "can_edit": can_edit}, status=status
    )


@tenant_member_required("integrations.view")
def api_detail(request, pk):
    spec = get_object_or_404(ApiSpec, pk=pk)
    table = data_table(request, OperationsTable, spec.operations)
    if table.response:
        return table.response
    return render(request, "integrations/api.html", {"spec": spec, "table": table, "can_edit": _can_edit(request)})


@require_POST
@tenant_member_required(EDIT)
def api_delete(request, pk):
    spec = get_object_or_404(ApiSpec, pk=pk)
    services.spec_delete(tenant=request.tenant, actor=request.user, spec=spec)
    messages.success(request, f"Imported API “{spec.title}” deleted.")
    return redirect("integrations:specs")
