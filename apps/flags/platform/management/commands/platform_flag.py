"""manage.py platform_flag: list, set, switch and check the platform's own flags.

platform_flag list
platform_flag set new-editor --plans pro,enterprise [--rollout 50] [--tenants acme,beta] [--off]
platform_flag switch new-editor off
platform_flag check new-editor --tenant acme
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.flags.platform.models import PlatformFlag
from apps.flags.platform.services import platform_flag_rollback, platform_flag_save, platform_flag_value
from apps.tenancy.selectors import tenant_get


def _words(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())


class Command(BaseCommand):
    help = "List, set, switch and check the platform's own feature flags (per tenant or plan)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Every platform flag and what it serves.")
        setter = sub.add_parser("set", help="Create or replace a flag's rules.")
        setter.add_argument("key")
        setter.add_argument("--plans", default="", help="Comma-separated plans (empty: every plan).")
        setter.add_argument("--rollout", type=float, default=100, help="Percentage of those tenants (0-100).")
        setter.add_argument("--tenants", default="", help="Comma-separated tenant slugs that always get it.")
        setter.add_argument("--description", default="")
        setter.add_argument("--off", action="store_true", help="Save it switched off.")
        switch = sub.add_parser("switch", help="The kill switch.")
        switch.add_argument("key")
        switch.add_argument("state", choices=["on", "off"])
        history = sub.add_parser("history", help="A flag's versions, newest first.")
        history.add_argument("key")
        rollback = sub.add_parser("rollback", help="Make an earlier version current again (a new version).")
        rollback.add_argument("key")
        rollback.add_argument("version", type=int)
        check = sub.add_parser("check", help="What a tenant gets.")
        check.add_argument("key")
        check.add_argument("--tenant", required=True)

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _flag(self, key) -> PlatformFlag:
        flag = PlatformFlag.objects.filter(key=key).first()
        if flag is None:
            raise CommandError(f"There is no platform flag “{key}”.")
        return flag

    def _list(self, **options):
        for flag in PlatformFlag.objects.order_by("key"):
            state = "on" if flag.active else "off"
            self.stdout.write(f"{flag.key}\t{state}\tv{flag.version}\t{(flag.filters or {}).get('groups')}")

    def _set(self, *, key, plans, rollout, tenants, description, off, **options):
        properties = []
        if plans.strip():
            properties.append(
                {
                    "key": "plan",
                    "type": "person",
                    "operator": "exact",
                    "value": [p.strip() for p in plans.split(",") if p.strip()],
                }
            )
        rollout = int(rollout) if float(rollout).is_integer() else rollout
        flag = PlatformFlag.objects.filter(key=key).first() or PlatformFlag(key=key)
        flag.description = description or flag.description
        flag.active = not off
        flag.filters = {"groups": [{"properties": properties, "rollout_percentage": rollout}]}
        flag.overrides = {slug.strip(): True for slug in tenants.split(",") if slug.strip()}
        try:
            platform_flag_save(flag=flag)
        except ValidationError as exc:
            raise CommandError(_words(exc.message_dict)) from None
        self.stdout.write(f"Saved “{key}” (version {flag.version}).")

    def _switch(self, *, key, state, **options):
        flag = self._flag(key)
        flag.active = state == "on"
        platform_flag_save(flag=flag, note=f"switched {state}")
        self.stdout.write(f"“{key}” is {state}.")

    def _history(self, *, key, **options):
        for row in self._flag(key).versions.order_by("-version"):
            state = "on" if row.definition.get("active") else "off"
            groups = (row.definition.get("filters") or {}).get("groups")
            self.stdout.write(f"v{row.version}\t{row.created:%Y-%m-%d %H:%M}\t{row.note}\t{state}\t{groups}")

    def _rollback(self, *, key, version, **options):
        try:
            flag = platform_flag_rollback(flag=self._flag(key), version=version)
        except ValidationError as exc:
            raise CommandError(_words(exc.message_dict)) from None
        self.stdout.write(f"“{key}” is back to version {version}'s rules (now version {flag.version}).")

    def _check(self, *, key, tenant, **options):
        flag = self._flag(key)
        found = tenant_get(slug=tenant)
        if found is None:
            raise CommandError(f"There is no tenant “{tenant}”.")
        self.stdout.write(f"{flag.key} for {found.slug} ({found.plan}): {platform_flag_value(flag.key, found)}")
