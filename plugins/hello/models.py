from django.conf import settings
from django.db import models


class Greeting(models.Model):
    """A greeting for a new member (in the tenant's schema; the user is in the public one)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    message = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.message
