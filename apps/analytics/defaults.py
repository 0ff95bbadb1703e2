"""The default dashboard every organisation starts with: four insights on the page views that
sites and apps send (posthog-js sends `$pageview`), over the last 30 days.

`default_dashboard_make(Dashboard, Insight, DashboardTile, today=...)` takes the model classes, so
the data migration (0004_default_dashboard, with its historical models) and the service
(services.dashboard_default_ensure) make the same thing. New organisations get it through the
template schema they are cloned from (apps/tenancy/schemas.py copies the template's rows).
"""

from datetime import date, timedelta

NAME = "Overview"
DESCRIPTION = "Page views and visitors of your sites and apps. Change it, or build your own dashboards."


def _queries(today: date) -> list[tuple[str, dict, tuple[int, int, int, int]]]:
    start, end = (today - timedelta(days=29)).isoformat(), today.isoformat()
    span = {"date_from": start, "date_to": end}
    return [
        ("Page views", {"kind": "trends", **span, "series": [{"event": "$pageview"}]}, (0, 0, 6, 3)),
        (
            "Unique visitors",
            {"kind": "trends", **span, "series": [{"event": "$pageview", "math": "unique_persons"}]},
            (6, 0, 6, 3),
        ),
        (
            "Visitors: new, returning, dormant",
            {"kind": "lifecycle", **span, "event": "$pageview", "interval": "week"},
            (0, 3, 6, 3),
        ),
        (
            "Visitors coming back",
            {
                "kind": "retention",
                **span,
                "start_event": "$pageview",
                "return_event": "$pageview",
                "period": "week",
                "periods": 4,
            },
            (6, 3, 6, 3),
        ),
    ]


def default_dashboard_make(dashboard_model, insight_model, tile_model, *, today: date):
    """Makes the default dashboard, its insights and tiles; returns the dashboard."""
    dashboard = dashboard_model.objects.create(name=NAME, description=DESCRIPTION, date_range="30d", is_default=True)
    for name, query, (x, y, w, h) in _queries(today):
        insight = insight_model.objects.create(name=name, query=query)
        tile_model.objects.create(dashboard=dashboard, insight=insight, x=x, y=y, w=w, h=h)
    return dashboard
