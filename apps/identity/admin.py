from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    EmailDevice,
    Invitation,
    Membership,
    RecoveryCodeDevice,
    SMSDevice,
    TenantSecurity,
    TOTPDevice,
    User,
    UserSession,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("tenant",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_active", "date_joined")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Platform access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    inlines = [MembershipInline]
    actions = ["deactivate"]

    def has_delete_permission(self, request, obj=None):
        # Tenant schemas keep rows that point at the user (audit log actors, notifications, events),
        # and those cross-schema references cannot be cascaded from here: deactivate instead.
        return False

    @admin.action(description="Deactivate the selected users (they can no longer log in)")
    def deactivate(self, request, queryset):
        count = queryset.update(is_active=False)
        self.message_user(request, f"Deactivated {count} user(s).")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "role", "created")
    list_filter = ("role",)
    search_fields = ("user__email", "tenant__slug")
    autocomplete_fields = ("user", "tenant")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "tenant", "role", "created", "expires_at", "accepted_at", "revoked_at")
    search_fields = ("email", "tenant__slug")
    readonly_fields = ("token_hash",)


# --- Log-in security: what operators need for account recovery and support --------------------


class FactorAdmin(admin.ModelAdmin):
    """View-only, but deletable: an operator removes a factor a user lost (account recovery).
    Keys and code hashes are never shown."""

    list_display = ("user", "name", "confirmed", "created")
    list_filter = ("confirmed",)
    search_fields = ("user__email",)
    fields = ("user", "name", "confirmed", "created")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        from .audit import audit_event
        from .mfa import kind_of

        super().delete_model(request, obj)
        audit_event(request=request, event="mfa.factor_removed", user=obj.user, factor=kind_of(obj), by="operator")

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


for _model in (TOTPDevice, EmailDevice, SMSDevice, RecoveryCodeDevice):
    admin.site.register(_model, FactorAdmin)


@admin.register(TenantSecurity)
class TenantSecurityAdmin(admin.ModelAdmin):
    list_display = ("tenant", "mfa_required", "sso_enabled", "sso_enforced", "idp_entity_id", "updated")
    list_filter = ("mfa_required", "sso_enabled", "sso_enforced")
    search_fields = ("tenant__slug", "idp_entity_id")
    readonly_fields = [f.name for f in TenantSecurity._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # tenants change their policy on their own Log-in & SSO page (audited there)


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "tenant", "ip_address", "last_activity", "expires_at")
    search_fields = ("user__email", "ip_address")
    fields = ("user", "tenant", "ip_address", "user_agent", "created", "last_activity", "expires_at")
    readonly_fields = fields
    actions = ["end_sessions"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # ending a session is more than deleting this row: use the action

    @admin.action(description="End the selected sessions")
    def end_sessions(self, request, queryset):
        from .sessions import session_end

        ended = sum(session_end(user=row.user, session_key=row.session_key) for row in queryset)
        self.message_user(request, f"{ended} session{'s' if ended != 1 else ''} ended.")
