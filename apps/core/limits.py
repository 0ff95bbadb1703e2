"""Plan limits, as the apps where a quantity grows see them: `limit_check(tenant=, quantity=,
adding=)` before a member is invited, a workflow run starts, a file is stored, events are
captured or an API call is answered. It asks the quota the registry holds for that quantity
(apps.billing declares them: the plan's limits and the tenant's usage); a quantity nobody
declares is unlimited. So the apps that enforce a limit import only this module, and the billing
app that knows the plans may read their selectors without a cycle.

Over the limit it raises LimitReached: the API answers it with a 402 problem+json (type
PROBLEM_TYPE, naming the quantity, the limit and the plan: apps.core.api.exceptions), a
dashboard form shows its `message` under the form.
"""

from django.core.exceptions import ValidationError

from .registry import registry

# The problem type of a refusal by a plan limit (RFC 9457), documented in docs/billing.md.
PROBLEM_TYPE = "https://reactdjango-hub.dev/problems/plan-limit"


class LimitReached(ValidationError):
    """Adding `adding` of `quantity` would pass the `limit` of the tenant's `plan` (its name);
    `used` is what the tenant has now. `message` says so in words, with how to upgrade.

    A ValidationError without a field, so a dashboard view that puts a service's ValidationError
    on its form (apps.core.forms.apply_errors) shows it there; the API answers it with a 402."""

    def __init__(self, *, quantity: str, limit: int, used: int, plan: str, message: str, adding: int = 1,
                 upgrade_url: str = "/billing/"):  # fmt: skip
        super().__init__(message, code="plan_limit")
        self.quantity, self.limit, self.used, self.adding = quantity, limit, used, adding
        self.plan, self.upgrade_url = plan, upgrade_url

    def __str__(self) -> str:
        return self.message


def limit_check(*, tenant, quantity: str, adding: int = 1) -> None:
    """Raises LimitReached when adding `adding` of `quantity` would pass the tenant's plan."""
    quota = registry["quotas"].get(quantity)
    if quota is not None and adding > 0 and not getattr(tenant, "is_public", False):
        quota.check(tenant=tenant, adding=adding)
