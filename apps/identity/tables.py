"""The identity pages' data tables: members, pending invitations, sessions, the audit log."""

import django_filters
import django_tables2 as tables
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.forms import DateTimeInput
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TemplateCell, TimeColumn

from .audit import audit_entry_words, object_type_words
from .models import Invitation, Membership, User
from .roles import Role, can_manage
from .selectors import leave_blocker
from .sessions import describe_device

# A datetime-local field: a wall-clock time, read in the active (the viewer's) time zone.
LOCAL_TIME = {"attrs": {"type": "datetime-local"}, "format": "%Y-%m-%dT%H:%M"}


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="Any role")

    class Meta:
        model = Membership
        fields = ["role"]


class MembersTable(DataTable):
    name = tables.Column(accessor="user__full_name", verbose_name="Name", empty_values=())
    email = tables.Column(accessor="user__email", verbose_name="Email")
    role = TemplateCell("identity/_member_role.html", verbose_name="Role")
    created = tables.DateColumn(verbose_name="Joined", format="j M Y")
    actions = ActionsColumn("identity/_member_actions.html")

    search_fields = ("user__email", "user__full_name")
    filterset_class = MemberFilter
    export_name = "members"

    class Meta(DataTable.Meta):
        row_attrs = {"data-member": lambda record: record.user.email}
        empty_text = "No members yet."

    def __init__(self, *args, actor: Membership, grantable_roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.grantable_roles = grantable_roles
        self.leave_blocker = leave_blocker(membership=actor)  # why the actor may not leave, if so

    def row_context(self, record) -> dict:
        is_self = record.user_id == self.actor.user_id
        return {
            "is_self": is_self,
            "leave_blocker": self.leave_blocker if is_self else "",
            "manage": not is_self and can_manage(self.actor.role, record.role),
        }

    def render_name(self, value, record):
        picture = render_to_string("identity/_avatar.html", {"person": record.user})
        if record.user_id == self.actor.user_id:
            return format_html(
                '<span class="member-name">{} {}</span> <span class="badge badge-info">you</span>',
                picture,
                value or "—",
            )
        return format_html('<span class="member-name">{} {}</span>', picture, value or "—")

    def value_name(self, value):
        return value

    def value_role(self, record):
        return record.get_role_display()


class InvitationsTable(DataTable):
    email = tables.Column(verbose_name="Email")
    role = tables.Column(verbose_name="Role")
    invited_by = tables.Column(accessor="invited_by__email", verbose_name="Invited by", default="—")
    expires_at = tables.DateColumn(verbose_name="Expires", format="j M Y")
    actions = ActionsColumn("identity/_invitation_actions.html")

    search_fields = ("email",)
    export_name = "invitations"

    class Meta(DataTable.Meta):
        model = Invitation
        fields = ()
        empty_text = "No pending invitations."


class SessionsTable(DataTable):
    device = tables.Column(accessor="user_agent", verbose_name="Device")
    ip_address = tables.Column(verbose_name="IP address", default="—")
    tenant = tables.Column(accessor="tenant__name", verbose_name="Organisation", default="public site")
    last_activity = TimeColumn(verbose_name="Last activity")
    actions = ActionsColumn("identity/_session_actions.html")

    search_fields = ("user_agent", "ip_address", "tenant__name")
    export_name = "sessions"

    class Meta(DataTable.Meta):
        empty_text = "No sessions."

    def __init__(self, *args, current_key: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_key = current_key

    def row_context(self, record) -> dict:
        return {"current": record.session_key == self.current_key}

    def render_device(self, value, record):
        if record.session_key == self.current_key:
            return format_html('{} <span class="badge badge-info">this session</span>', describe_device(value))
        return describe_device(value)

    def value_device(self, value):
        return describe_device(value)


ACTION_CHOICES = [
    (LogEntry.Action.CREATE, "Created"),
    (LogEntry.Action.UPDATE, "Updated"),
    (LogEntry.Action.DELETE, "Deleted"),
    (LogEntry.Action.ACCESS, "Log-ins and other access"),
]


class AuditFilter(django_filters.FilterSet):
    """The audit log page's filters; the times are read in the viewer's time zone."""

    actor = django_filters.ChoiceFilter(field_name="actor_id", empty_label="Anyone", label="Who")
    action = django_filters.ChoiceFilter(choices=ACTION_CHOICES, empty_label="Any action", label="Action")
    object_type = django_filters.ChoiceFilter(field_name="content_type_id", empty_label="Anything", label="On")
    since = django_filters.DateTimeFilter(
        field_name="timestamp", lookup_expr="gte", label="From", widget=DateTimeInput(**LOCAL_TIME)
    )
    until = django_filters.DateTimeFilter(
        field_name="timestamp", lookup_expr="lt", label="Until", widget=DateTimeInput(**LOCAL_TIME)
    )

    class Meta:
        model = LogEntry
        fields = ["actor", "action", "object_type", "since", "until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        log = LogEntry.objects.all()
        actors = User.objects.filter(pk__in=log.exclude(actor=None).values("actor_id")).order_by("email")
        self.filters["actor"].extra["choices"] = [(u.pk, u.email) for u in actors[:500]]
        types = ContentType.objects.filter(pk__in=log.values("content_type_id"))
        self.filters["object_type"].extra["choices"] = sorted(
            ((ct.pk, object_type_words(ct).capitalize()) for ct in types), key=lambda c: c[1]
        )
        zone = timezone.get_current_timezone_name()  # the viewer's: the times are read in it
        self.filters["since"].label = f"From ({zone})"
        self.filters["until"].label = f"Until ({zone})"


class AuditTable(DataTable):
    timestamp = TimeColumn(verbose_name="When")
    actor = tables.Column(accessor="actor__email", verbose_name="Who", default="System")
    action = tables.Column(accessor="pk", verbose_name="What happened", orderable=False)
    object_repr = tables.Column(verbose_name="About")
    remote_addr = tables.Column(verbose_name="IP address", default="—")

    search_fields = ("object_repr", "actor__email", "changes_text")
    filterset_class = AuditFilter
    export_name = "audit-log"

    class Meta(DataTable.Meta):
        row_attrs = {"data-entry": lambda record: record.pk}
        empty_text = "Nothing has been recorded yet."

    def render_action(self, record):
        return audit_entry_words(record)

    def render_object_repr(self, value, record):
        return format_html('{} <small class="muted">{}</small>', value, object_type_words(record.content_type))
