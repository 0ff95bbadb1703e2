"""The operators' page: the platform's flags in the Django admin, checked by the flags engine."""

import json

from django import forms
from django.contrib import admin

from .models import PlatformFlag
from .services import forget, platform_flag_errors


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
    readonly_fields = ("version", "updated")
    actions = ["switch_off", "switch_on"]

    @admin.display(description="Serves")
    def serves(self, obj):
        return json.dumps((obj.filters or {}).get("groups") or [])[:120]

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)
        forget()

    def _switch(self, queryset, active: bool):
        for flag in queryset:
            flag.active, flag.version = active, flag.version + 1
            flag.save(update_fields=["active", "version", "updated"])
        forget()

    @admin.action(description="Switch the selected flags off (kill switch)")
    def switch_off(self, request, queryset):
        self._switch(queryset, False)

    @admin.action(description="Switch the selected flags on")
    def switch_on(self, request, queryset):
        self._switch(queryset, True)
