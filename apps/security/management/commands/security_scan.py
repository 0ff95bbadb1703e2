import argparse
import json

from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from apps.security.models import Severity
from apps.security.posture import GRADE_WORDS
from apps.security.services import posture_scan_run
from apps.tenancy.backup.progress import Progress
from apps.tenancy.management.tenants import TenantsCommand
from apps.tenancy.services import tenant_url


def _score(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a score is a whole number from 0 to 100, not “{text}”")
    return value


class Command(TenantsCommand):
    help = (
        "Checks the security posture of a tenant (or every tenant): the MFA policy, owners and admins without a "
        "second factor, stale or all-powerful API keys, webhooks without HTTPS, single sign-on not enforced, too "
        "many owners, admins who no longer log in, serious incidents left open. Prints each score (0-100), grade "
        "and findings, and stores the scan (the Security posture page shows it). Exits 1 with --fail-under N when "
        "a score is below N."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--fail-under", type=_score, metavar="N", help="Exit 1 if a score is below N (0-100).")
        parser.add_argument("--json", action="store_true", help="One JSON document on standard output.")

    def handle(self, *args, tenant=None, all=False, fail_under=None, json=False, **options):
        tenants = self.tenants_chosen(tenant=tenant, all=all)
        progress = Progress(self.stderr if json or len(tenants) > 1 else None)
        progress.start("Checking the security posture", len(tenants))
        results = []
        for each in tenants:
            with tenant_context(each):
                scan = posture_scan_run(tenant=each)
            results.append(self._result(each, scan))
            progress.advance(1)
        progress.finish(f"{len(tenants)} tenant{'' if len(tenants) == 1 else 's'} checked")
        if json:
            self.stdout.write(_dumps({"tenants": results}))
        else:
            for result in results:
                self._write_words(result)
        below = [r for r in results if fail_under is not None and r["score"] < fail_under]
        if below:
            names = ", ".join(f"{r['slug']} ({r['score']})" for r in below)
            raise CommandError(f"{len(below)} of {len(results)} tenants score below {fail_under}: {names}.")

    def _result(self, tenant, scan) -> dict:
        return {
            "slug": tenant.slug,
            "name": tenant.name,
            "score": scan.score,
            "grade": scan.grade,
            "checked_at": scan.checked_at.isoformat(),
            "findings": [{**f, "fix_url": tenant_url(tenant, f["fix_url"])} for f in scan.findings],
        }

    def _write_words(self, result: dict) -> None:
        findings = result["findings"]
        grade = f"grade {result['grade']} ({GRADE_WORDS.get(result['grade'], '')})"
        many = "no findings" if not findings else f"{len(findings)} finding{'' if len(findings) == 1 else 's'}"
        style = self.style.SUCCESS if not findings else self.style.WARNING
        self.stdout.write(style(f"{result['slug']} ({result['name']}): {result['score']}/100, {grade}, {many}"))
        for finding in findings:
            label = Severity(finding["severity"]).label
            self.stdout.write(f"  {label:<9} {finding['title']}: {finding['detail']}")
            self.stdout.write(f"  {'':<9} Fix: {finding['fix_url']}")


def _dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
