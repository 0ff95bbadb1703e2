"""Pushes to the websocket groups every dashboard joins (apps.notifications.consumers).

Groups: one per tenant (every member's open pages) and one per member of a tenant. Sending is
best-effort: a channel-layer outage is logged and the pages catch up when they reconnect.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def tenant_group(schema_name: str) -> str:
    return f"hub.{schema_name}"


def user_group(schema_name: str, user_id: int) -> str:
    return f"hub.{schema_name}.u{user_id}"


def group_send(group: str, message: dict) -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception as exc:  # noqa: BLE001 - never fail the caller over a live update
        logger.warning("live update to %s not sent: %s", group, exc)
        return False
    return True
