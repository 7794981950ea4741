"""Models of the eventstore app.

:class:`AuditTrail` has no table: it exists to give the audit-trail pages an
entry on the admin index and one permission, ``eventstore.view_audit_trail``,
that gates them (the pattern django-rq uses for its dashboard).
"""

from django.db import models


class AuditTrail(models.Model):
    """Permission holder for the staff audit-trail pages (no database table)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_audit_trail", "Can view the audit trail")]
        verbose_name = "audit trail"
        verbose_name_plural = "audit trail"

    def __str__(self) -> str:
        return "Audit trail"
