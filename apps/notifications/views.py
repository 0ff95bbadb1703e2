"""Notification and webhook pages. Thin: validate, call a service, render."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.registry import registry
from apps.core.tables import data_table, table_action_done
from apps.identity.decorators import tenant_member_required

from . import selectors, services, webhooks
from .forms import EndpointForm, PreferencesForm, ReplayForm
from .models import Channel, NotificationPreference, WebhookDelivery, WebhookEndpoint
from .tables import DeliveriesTable, EndpointsTable, NotificationsTable

DELIVERY_POLL_SECONDS = 3

# --- notifications ------------------------------------------------------------------------------


@tenant_member_required()
def notification_list(request):
    table = data_table(request, NotificationsTable, selectors.notification_list(user=request.user).order_by("-id"))
    return table.response or render(request, "notifications/list.html", {"table": table})


@tenant_member_required()
def activity(request):
    page, items = selectors.activity_page(number=request.GET.get("page"))
    return render(request, "notifications/activity.html", {"page": page, "items": items})


@require_POST
@tenant_member_required()
def notification_read(request, pk):
    services.notification_mark_read(user=request.user, notification_id=pk)
    if done := table_action_done(request):
        return done
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("notifications:list")


@tenant_member_required()
def notification_open(request, pk):
    """Follow a notification's link (from the bell's dropdown, the list or a toast): it is marked
    read on the way. Only the member's own; one without a link opens the list."""
    notification = get_object_or_404(selectors.notification_list(user=request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification_id=notification.pk)
    target = notification.url
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("notifications:list")


BELL_PANEL = "bell-panel"  # the id of the bell's dropdown (notifications/_bell.html), htmx's target


@tenant_member_required()
def notification_menu(request):
    """The bell's dropdown (an htmx fragment): the latest notifications, unread ones marked."""
    return _menu(request)


def _menu(request):
    latest = selectors.notification_latest(user=request.user)
    unread = selectors.unread_count(user_id=request.user.pk)
    response = render(request, "notifications/_menu.html", {"latest": latest, "unread": unread})
    # The bell's count follows (hub-unread is heard by notifications/live.js).
    response["HX-Trigger"] = json.dumps({"hub-unread": {"value": unread}})
    return response


@require_POST
@tenant_member_required()
def notification_read_all(request):
    count = services.notification_mark_all_read(user=request.user)
    if request.headers.get("HX-Target") == BELL_PANEL:
        return _menu(request)  # from the bell's dropdown: the list again, all read
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return table_action_done(request) or redirect("notifications:list")


@tenant_member_required()
def preferences(request):
    chosen = dict(NotificationPreference.objects.filter(user=request.user).values_list("event_type", "channel"))
    rules = registry["notification_rules"]
    current = {
        name: chosen.get(name) or (rules[name].default_channel if name in rules else Channel.IN_APP)
        for name in _names()
    }
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST":
        if form.is_valid():
            for event_type, channel in form.cleaned_data.items():
                if channel != current.get(event_type):
                    services.preference_set(user=request.user, event_type=event_type, channel=channel)
            messages.success(request, "Notification preferences saved.")
            return redirect("notifications:preferences")
    from django.conf import settings

    context = {"form": form, "vapid_public_key": settings.HUB_VAPID_PUBLIC_KEY}
    return render(request, "notifications/preferences.html", context, status=400 if form.errors else 200)


def _names():
    from apps.events.selectors import event_type_list

    return [t.name for t in event_type_list()]


@csrf_exempt  # RFC 8058: mail clients POST here without a session; the signed token is the proof
def unsubscribe(request, token):
    found = services.unsubscribe_read(token=token, schema_name=request.tenant.schema_name)
    if found is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    user_id, event_type = found
    if request.method == "POST":
        services.email_unsubscribe(user_id=user_id, event_type=event_type)
        return render(request, "notifications/unsubscribe.html", {"done": True, "event_type": event_type})
    return render(request, "notifications/unsubscribe.html", {"event_type": event_type, "token": token})


@require_POST
@tenant_member_required()
def push_subscribe(request):
    try:
        data = json.loads(request.body or b"{}")
        keys = data.get("keys") or {}
        services.push_subscription_save(
            user=request.user,
            endpoint=str(data.get("endpoint") or ""),
            p256dh=str(keys.get("p256dh") or ""),
            auth=str(keys.get("auth") or ""),
            user_agent=request.headers.get("user-agent", ""),
        )
    except (ValueError, AttributeError):
        return JsonResponse({"errors": {"body": ["Send the subscription as JSON."]}}, status=400)
    except ValidationError as exc:
        return JsonResponse({"errors": exc.message_dict}, status=400)
    return JsonResponse({"subscribed": True}, status=201)


@require_POST
@tenant_member_required()
def push_unsubscribe(request):
    try:
        endpoint = str(json.loads(request.body or b"{}").get("endpoint") or "")
    except (ValueError, AttributeError):
        return JsonResponse({"errors": {"body": ["Send the subscription as JSON."]}}, status=400)
    return JsonResponse({"deleted": services.push_subscription_delete(user=request.user, endpoint=endpoint)})


# --- webhooks -----------------------------------------------------------------------------------


@tenant_member_required("settings.change")
def webhook_list(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhooks.endpoint_create(
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
                created_by=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Webhook endpoint added. Its signing secret is below.")
            return redirect("notifications:webhook", pk=endpoint.pk)
    table = data_table(
        request,
        EndpointsTable,
        selectors.endpoint_list().order_by("-created"),
        empty_action=("Add an endpoint", "#add-endpoint"),
    )
    if table.response:
        return table.response
    context = {"table": table, "form": form}
    return render(request, "notifications/webhooks.html", context, status=400 if form.errors else 200)


def _endpoint(pk) -> WebhookEndpoint:
    # Looked up in the tenant's own schema: another tenant's endpoints do not exist here.
    return get_object_or_404(WebhookEndpoint, pk=pk)


@tenant_member_required("settings.change")
def webhook_detail(request, pk):
    endpoint = _endpoint(pk)
    form = EndpointForm(
        request.POST or None,
        initial={"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                webhooks.endpoint_update(
                    endpoint=endpoint,
                    url=form.cleaned_data["url"],
                    event_types=form.cleaned_data["event_types"],
                    description=form.cleaned_data["description"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Webhook endpoint saved.")
                return redirect("notifications:webhook", pk=endpoint.pk)
        status = 400
    return _detail(request, endpoint, form=form, status=status)


def _detail(request, endpoint, *, form=None, replay_form=None, status=200):
    deliveries = data_table(
        request,
        DeliveriesTable,
        selectors.delivery_list(endpoint=endpoint).order_by("-created", "-pk"),
        # The log reloads itself while a delivery is under way.
        poll_seconds=DELIVERY_POLL_SECONDS if selectors.delivery_in_flight(endpoint=endpoint) else 0,
    )
    if deliveries.response:
        return deliveries.response
    context = {
        "endpoint": endpoint,
        "form": form
        or EndpointForm(
            initial={"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types}
        ),
        "replay_form": replay_form or ReplayForm(initial={"since": timezone.now() - timezone.timedelta(days=1)}),
        "deliveries": deliveries,
        "secrets": webhooks.signing_secrets(endpoint),
    }
    return render(request, "notifications/webhook_detail.html", context, status=status)


@require_POST
@tenant_member_required("settings.change")
def webhook_action(request, pk, action):
    endpoint = _endpoint(pk)
    if action == "test":
        webhooks.endpoint_send_test(endpoint=endpoint)
        messages.success(request, "A test event is on its way; it appears in the delivery log below.")
    elif action == "rotate":
        webhooks.endpoint_rotate_secret(endpoint=endpoint)
        messages.success(request, "New secret created. The old one keeps signing for 24 hours too.")
    elif action == "disable":
        webhooks.endpoint_set_active(endpoint=endpoint, active=False, reason="Disabled by an administrator.")
        messages.success(request, "Endpoint disabled: nothing is sent to it until you enable it.")
    elif action == "enable":
        webhooks.endpoint_set_active(endpoint=endpoint, active=True)
        messages.success(request, "Endpoint enabled.")
    elif action == "delete":
        webhooks.endpoint_delete(endpoint=endpoint)
        messages.success(request, "Endpoint deleted.")
        return redirect("notifications:webhooks")
    elif action == "replay":
        replay_form = ReplayForm(request.POST)
        if replay_form.is_valid():
            since = replay_form.cleaned_data["since"]
            try:
                count = webhooks.endpoint_replay(
                    endpoint=endpoint, event_type=replay_form.cleaned_data["event_type"], since=since
                )
            except ValidationError as exc:
                apply_errors(replay_form, exc)
            else:
                messages.success(request, f"{count} event{'s' if count != 1 else ''} queued for re-delivery.")
                return redirect("notifications:webhook", pk=endpoint.pk)
        return _detail(request, endpoint, replay_form=replay_form, status=400)
    else:
        raise Http404
    return redirect("notifications:webhook", pk=endpoint.pk)


@tenant_member_required("settings.change")
def delivery_detail(request, pk, delivery_id):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=delivery_id, endpoint_id=pk)
    if request.method == "POST":
        copy = webhooks.delivery_resend(delivery=delivery)
        messages.success(request, "The message is being sent again (same webhook-id).")
        return redirect("notifications:delivery", pk=pk, delivery_id=copy.pk)
    return render(request, "notifications/delivery_detail.html", {"delivery": delivery, "endpoint": delivery.endpoint})
