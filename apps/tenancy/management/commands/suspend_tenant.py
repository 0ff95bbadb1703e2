from apps.tenancy.models import Tenant

from ._status import SetStatusCommand


class Command(SetStatusCommand):
    help = "Suspends a tenant: its pages answer 403 and its data is kept."
    status = Tenant.Status.SUSPENDED
