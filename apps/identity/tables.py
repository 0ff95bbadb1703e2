"""The identity pages' data tables: members, pending invitations, sessions, the audit log."""

import django_filters
import django_tables2 as tables
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TemplateCell, TimeColumn

from .models import Invitation, Membership
from .roles import Role, can_manage
from .sessions import describe_device


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="Any role")

    class Meta:
        model = Membership
        fields = ["role"]


class MembersTable(DataTable):
    name = tables.Column(accessor="user__full_name", verbose_name="Name", default="—")
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
        self.sole_owner = actor.role == Role.OWNER and not (
            Membership.objects.filter(tenant_id=actor.tenant_id, role=Role.OWNER).exclude(pk=actor.pk).exists()
        )

    def row_context(self, record) -> dict:
        is_self = record.user_id == self.actor.user_id
        return {
            "is_self": is_self,
            "can_leave": is_self and not self.sole_owner,  # an organisation keeps at least one owner
            "manage": not is_self and can_manage(self.actor.role, record.role),
        }

    def render_name(self, value, record):
        if record.user_id == self.actor.user_id:
            return format_html('{} <span class="badge badge-info">you</span>', value or "—")
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
