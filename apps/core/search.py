"""What the command palette finds: the pages of the navigation a member may see, and the objects
of every search provider in the registry whose permission the member's role has.

`membership` is any object with `allows(permission)` (apps.identity's Membership): the role rules
belong to identity, so core needs no app above it.
"""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from .registry import SearchResult, registry

PER_PROVIDER = 5  # results asked of each provider (and pages shown)
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class SearchGroup:
    key: str
    label: str
    results: list[SearchResult] = field(default_factory=list)


def _pages(query: str, membership) -> list[SearchResult]:
    items = sorted(registry.active("nav_items"), key=lambda i: i.weight)
    found = []
    for item in items:
        if membership.allows(item.permission) and query.casefold() in item.label.casefold():
            try:
                found.append(SearchResult(item.label, reverse(item.url_name), "Page"))
            except NoReverseMatch:  # a page of the other site (public vs tenant)
                continue
    return found


def search(*, query: str, tenant, user, membership, limit: int = PER_PROVIDER) -> list[SearchGroup]:
    """Groups of results, pages first, then each provider in registration order; empty groups
    are left out. An empty query finds every page the member may open and asks no provider."""
    query = " ".join(query.split())
    groups = []
    pages = _pages(query, membership)
    if pages:
        groups.append(SearchGroup("pages", "Pages", pages if not query else pages[:limit]))
    if not query:
        return groups
    for provider in registry.active("search_providers"):
        if not membership.allows(provider.permission):
            continue
        results = list(provider.search(query=query, tenant=tenant, user=user, limit=limit))[:limit]
        if results:
            groups.append(SearchGroup(provider.key, provider.label, results))
    return groups
