"""The operators' page: the platform's flags in the Django admin, checked by the flags engine."""

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from .models import PlatformFlag
from .services import platform_flag_errors, platform_flag_save


class PlatformFlagForm(forms.ModelForm):
    class Meta:
        model = PlatformFlag
        fields = ["key", "description", "active", "starts_at", "ends_at", "filters", "overrides"]
        help_texts = {
            "filters": 'As a tenant\'s flag: {"groups": [{"properties": [{"key": "plan", "operator": "exact", '
            '"value": ["pro", "enterprise"]}], "rollout_percentage": 100}]}. Properties: plan, slug.',
            "overrides": 'Tenant slug → true/false, e.g. {"acme": true}.',
        }

    def clean(self):
        cleaned = super().clean()
        probe = PlatformFlag(pk=self.instance.pk, **{k: v for k, v in cleaned.items() if k in self.Meta.fields})
        for field, errors in platform_flag_errors(probe).items():
            name = field.split(".")[0]
            self.add_error(name if name in self.fields else None, [f"{field}: {e}" for e in errors])
        return cleaned


@admin.register(PlatformFlag)
class PlatformFlagAdmin(admin.ModelAdmin):
    form = PlatformFlagForm
    list_display = ("key", "active", "serves", "version", "updated")
    list_filter = ("active",)
    search_fields = ("key", "description")
    readonly_fields = ("version", "updated", "history")
    actions = ["switch_off", "switch_on"]

    @admin.display(description="History")
    def history(self, obj):
        """The flag's versions, newest first (roll back with `manage.py platform_flag rollback`)."""
        rows = obj.versions.order_by("-version")[:50] if obj.pk else []
        return format_html(
            '<table class="platform-flag-history"><tbody>{}</tbody></table>',
            format_html_join(
                "",
                "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (r.version, f"{r.created:%Y-%m-%d %H:%M}", r.note, "on" if r.definition.get("active") else "off")
                    for r in rows
                ),
            ),
        )

    @admin.display(description="Serves")
    def serves(self, obj):
        return json.dumps((obj.filters or {}).get("groups") or [])[:120]

    def save_model(self, request, obj, form, change):
        platform_flag_save(
            flag=obj, note=f"edited by {request.user.email}" if change else f"created by {request.user.email}"
        )

    def _switch(self, request, queryset, active: bool):
        for flag in queryset:
            flag.active = active
            platform_flag_save(flag=flag, note=f"switched {'on' if active else 'off'} by {request.user.email}")

    @admin.action(description="Switch the selected flags off (kill switch)")
    def switch_off(self, request, queryset):
        self._switch(request, queryset, False)

    @admin.action(description="Switch the selected flags on")
    def switch_on(self, request, queryset):
        self._switch(request, queryset, True)
