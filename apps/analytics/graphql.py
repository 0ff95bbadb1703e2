"""analytics' GraphQL types (apps.api.graphql): saved insights and dashboards, read only, over the
selectors of /api/v1/analytics/insights/ and …/dashboards/ (api/views.py), with the same scope and
permissions. Running a query stays with POST /api/v1/analytics/query."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay
from strawberry.scalars import JSON

from apps.core.graphql import needs, pk_of

from . import selectors
from .models import Dashboard as DashboardModel

INSIGHTS = needs("analytics", "analytics.insights.view")
DASHBOARDS = needs("analytics", "analytics.dashboards.view")


@strawberry.type(description="A saved insight: a named analytics query.")
class Insight:
    id: strawberry.ID
    name: str
    description: str
    query: JSON
    created: datetime
    updated: datetime


@strawberry.type(description="A dashboard of insights.")
class Dashboard:
    id: strawberry.ID
    name: str
    description: str
    date_range: str
    is_default: bool
    created: datetime
    updated: datetime

    @strawberry.field(description="Its tiles' insights, top to bottom, left to right.")
    def insights(self: DashboardModel) -> list[Insight]:
        return [tile.insight for tile in selectors.dashboard_tiles(dashboard=self) if tile.insight is not None]


@strawberry.type
class AnalyticsQuery:
    @relay.connection(relay.ListConnection[Insight], permission_classes=[INSIGHTS])
    def insights(self, info: Info) -> Iterable[Insight]:
        """Saved insights, newest first (as GET /api/v1/analytics/insights/)."""
        return selectors.insight_list()

    @strawberry.field(permission_classes=[INSIGHTS])
    def insight(self, info: Info, id: strawberry.ID) -> Insight | None:
        """One insight (null: no such insight here)."""
        return selectors.insight_list().filter(pk=pk_of(id)).first()

    @relay.connection(relay.ListConnection[Dashboard], permission_classes=[DASHBOARDS])
    def dashboards(self, info: Info) -> Iterable[Dashboard]:
        """Dashboards, the default first, then by name (as GET /api/v1/analytics/dashboards/)."""
        return selectors.dashboard_list()

    @strawberry.field(permission_classes=[DASHBOARDS])
    def dashboard(self, info: Info, id: strawberry.ID) -> Dashboard | None:
        """One dashboard (null: no such dashboard here)."""
        return selectors.dashboard_list().filter(pk=pk_of(id)).first()


ROOT_FIELDS = ("insights", "insight", "dashboards", "dashboard")
