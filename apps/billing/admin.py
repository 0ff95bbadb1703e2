"""The operators' page: plans, their limits, features and prices in the Django admin. A price
edited here is a new PlanPrice for new subscribers; tenants keep the price they took."""

from decimal import Decimal

from django import forms
from django.contrib import admin

from .models import Plan, PlanPrice, Subscription, UsageRecord
from .services import plan_price_set


class PlanForm(forms.ModelForm):
    monthly = forms.DecimalField(label="Monthly price", max_digits=10, decimal_places=2, min_value=Decimal(0))
    per_seat = forms.DecimalField(
        label="Price per seat", max_digits=10, decimal_places=2, min_value=Decimal(0), initial=Decimal(0)
    )
    currency = forms.CharField(min_length=3, max_length=3, initial="EUR")

    class Meta:
        model = Plan
        fields = [
            "key", "name", "description", "order", "offered", "seats", "api_calls", "storage_bytes",
            "analytics_events", "workflow_runs", "features",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        price = self.instance.price if self.instance.pk else None
        if price is not None:
            self.initial.update(monthly=price.monthly, per_seat=price.per_seat, currency=price.currency)

    def clean_features(self):
        features = self.cleaned_data["features"]
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise forms.ValidationError('A list of feature keys, e.g. ["sso", "siem"].')
        return features


class PriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 0
    can_delete = False
    readonly_fields = ("currency", "monthly", "per_seat", "created")
    verbose_name_plural = "Prices (newest first; subscribers keep the price they took)"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    inlines = [PriceInline]
    list_display = (
        "name",
        "key",
        "offered",
        "seats",
        "api_calls",
        "storage_bytes",
        "analytics_events",
        "workflow_runs",
    )
    ordering = ("order",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        data = form.cleaned_data
        plan_price_set(plan=obj, monthly=data["monthly"], per_seat=data["per_seat"], currency=data["currency"])


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("tenant", "price", "started", "seats")
    list_select_related = ("tenant", "price__plan")
    readonly_fields = ("tenant", "price", "started")


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ("tenant", "day", "quantity", "amount", "collected_at")
    list_filter = ("quantity",)
    date_hierarchy = "day"

    def has_change_permission(self, request, obj=None):
        return False
