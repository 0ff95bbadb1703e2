"""Access reviews: once a quarter an admin confirms that each member still needs their access (their
role), or removes them. Celery beat opens the quarter's review on its first day (or an admin opens
it early); each member's access is recorded as it was then (role, second factor, last log-in), each
decision with who and when; the review is complete when no member is left undecided. The monthly
compliance report cites the latest one."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.events import publish
from apps.identity.mfa import user_has_factor
from apps.identity.models import Membership
from apps.identity.roles import has_permission
from apps.identity.services import membership_remove

from .models import AccessReview, AccessReviewItem

MANAGE = "compliance.manage"
Decision = AccessReviewItem.Decision


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def review_open(*, tenant, actor=None, today: date | None = None) -> tuple[AccessReview, bool]:
    """The review of the current quarter, opened (with every member's access as it is now) if it
    was not yet; returns it and whether it was opened now."""
    if actor is not None and not has_permission(actor.role, MANAGE):
        raise PermissionDenied("Your role does not allow access reviews.")
    period = quarter_of(today or timezone.localdate())
    with transaction.atomic():
        review, opened = AccessReview.objects.get_or_create(period=period)
        if opened:
            members = Membership.objects.filter(tenant=tenant).select_related("user")
            AccessReviewItem.objects.bulk_create(
                AccessReviewItem(
                    review=review,
                    user=m.user,
                    name=m.user.get_full_name(),
                    role=m.role,
                    has_second_factor=user_has_factor(user=m.user),
                    last_login=m.user.last_login,
                )
                for m in members
            )
            payload = {"review_id": review.pk, "period": period, "members": len(members)}
            publish("compliance.access_review_opened", payload, tenant=tenant, actor=getattr(actor, "user", None))
    return review, opened


def item_decide(*, tenant, actor: Membership, item: AccessReviewItem, decision: str) -> AccessReviewItem:
    """Confirms a member's access, or removes them from the organisation (identity's rules apply:
    the last owner stays). A member who already left is recorded as such."""
    if not has_permission(actor.role, MANAGE):
        raise PermissionDenied("Your role does not allow access reviews.")
    if decision not in (Decision.KEPT, Decision.REMOVED):
        raise ValidationError({"decision": ["Confirm the access, or remove the member."]})
    if item.review.completed_at is not None:
        raise ValidationError("This review is complete: open this quarter's review for new decisions.")
    with transaction.atomic():
        item = AccessReviewItem.objects.select_for_update().select_related("review").get(pk=item.pk)
        if item.decision != Decision.PENDING:
            raise ValidationError(f"{item.name}: already decided ({item.get_decision_display().lower()}).")
        membership = Membership.objects.filter(tenant=tenant, user_id=item.user_id).select_related("user").first()
        if membership is None:
            decision = Decision.LEFT
        elif decision == Decision.REMOVED:
            membership_remove(actor=actor, membership=membership)
        item.decision, item.decided_by, item.decided_at = decision, actor.user, timezone.now()
        item.save(update_fields=["decision", "decided_by", "decided_at"])
        review = item.review
        if not review.items.filter(decision=Decision.PENDING).exists():
            review.completed_at = timezone.now()
            review.save(update_fields=["completed_at"])
            counts = {d: review.items.filter(decision=d).count() for d in (Decision.KEPT, Decision.REMOVED)}
            payload = {"review_id": review.pk, "period": review.period, "kept": counts["kept"],
                       "removed": counts["removed"]}  # fmt: skip
            publish("compliance.access_review_completed", payload, tenant=tenant, actor=actor.user)
    return item


def reviews_open_due(*, tenant, today: date | None = None) -> bool:
    """Beat, daily: opens the quarter's review on its first days (once). Returns whether it did."""
    return review_open(tenant=tenant, today=today)[1]


def review_current(today: date | None = None) -> AccessReview | None:
    """This quarter's review, if it was opened."""
    return AccessReview.objects.filter(period=quarter_of(today or timezone.localdate())).first()
