"""compliance's GraphQL types (apps.api.graphql): data requests, over the selectors and services
of /api/v1/compliance/requests/ (api/views.py), with the same scope (`compliance`) and
permission (compliance.manage). Answering a request (erasure, refusal) is done on its page."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay

from apps.core.api.serializers import valid
from apps.core.graphql import context, needs, pk_of

from . import data_requests
from .api.serializers import DataRequestSerializer
from .models import DataRequest as DataRequestModel
from .selectors import data_request_list

READ = needs("compliance", "compliance.manage")
WRITE = needs("compliance", "compliance.manage", write=True)


@strawberry.type(description="A person's request about their personal data (access, portability, erasure, …).")
class DataRequest:
    id: strawberry.ID
    kind: str = strawberry.field(description="access, portability, erasure or rectification.")
    law: str
    status: str
    subject_name: str
    details: str
    opened_at: datetime
    due_at: datetime
    verified_at: datetime | None
    verification: str
    progress: int = strawberry.field(description="Percent, while the copy is made.")
    completed_at: datetime | None

    @strawberry.field
    def subject_id(self: DataRequestModel) -> int | None:
        return self.subject_id


@strawberry.type
class ComplianceQuery:
    @relay.connection(relay.ListConnection[DataRequest], permission_classes=[READ])
    def data_requests(self, info: Info) -> Iterable[DataRequest]:
        """The data requests, newest first (as GET /api/v1/compliance/requests/)."""
        return data_request_list()

    @strawberry.field(permission_classes=[READ])
    def data_request(self, info: Info, id: strawberry.ID) -> DataRequest | None:
        """One data request (null: none such here)."""
        return data_request_list().filter(pk=pk_of(id)).first()


@strawberry.type
class ComplianceMutation:
    @strawberry.mutation(permission_classes=[WRITE])
    def open_data_request(
        self,
        info: Info,
        kind: str,
        law: str | None = None,
        email: str | None = None,
        details: str | None = None,
        verified_how: str | None = None,
    ) -> DataRequest:
        """Open a data request for a member (by address; yours if none), as POST /api/v1/compliance/requests/."""
        given = {"kind": kind, "law": law, "email": email, "details": details, "verified_how": verified_how}
        data = valid(DataRequestSerializer, {name: value for name, value in given.items() if value is not None})
        ctx = context(info)
        return data_requests.data_request_open(
            tenant=ctx.tenant, actor=ctx.membership, kind=data["kind"], law=data.get("law", DataRequestModel.Law.GDPR),
            email=data.get("email", ""), details=data.get("details", ""), verified_how=data["verified_how"],
        )  # fmt: skip


ROOT_FIELDS = ("dataRequests", "dataRequest", "openDataRequest")
