from apps.tenancy.models import Tenant

from ._status import SetStatusCommand


class Command(SetStatusCommand):
    help = "Resumes a suspended tenant."
    status = Tenant.Status.ACTIVE
