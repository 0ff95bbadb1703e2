from django.contrib import admin, messages

from .models import Domain, Tenant
from .services import tenant_delete, tenant_set_status


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "plan", "status", "region", "created")
    list_filter = ("status", "plan")
    search_fields = ("slug", "name")
    readonly_fields = ("schema_name", "slug", "region", "created")  # a region is kept: moving is a restore
    inlines = [DomainInline]
    actions = ["suspend", "resume"]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public")

    def has_add_permission(self, request):
        return False  # Provisioning needs an owner: use sign-up or `manage.py create_tenant`.

    @admin.action(description="Suspend the selected tenants")
    def suspend(self, request, queryset):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)
        messages.success(request, f"Suspended {queryset.count()} tenant(s).")

    @admin.action(description="Resume the selected tenants")
    def resume(self, request, queryset):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE)
        messages.success(request, f"Resumed {queryset.count()} tenant(s).")

    def delete_model(self, request, obj):
        tenant_delete(tenant=obj)

    def delete_queryset(self, request, queryset):
        for tenant in queryset:
            tenant_delete(tenant=tenant)
