"""The admin action "Erase their personal data from the audit trail" on the user changelist.

Added to the Django user's :class:`~django.contrib.admin.ModelAdmin` of a site
(the default site) by :func:`install_erase_action` when a user admin is
registered there (nothing happens otherwise: the app works without one).
The action is listed only for staff holding ``eventstore.erase_data_subject``;
it first shows a confirmation page naming the users, then erases each
``user:<pk>`` from the ``default`` store (see :mod:`eventstore.privacy.erasure`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ..exceptions import UnknownSubjectError
from ..handler import eventstores
from ..privacy.erasure import describe

__all__ = ["ERASE_PERMISSION", "erase_personal_data", "install_erase_action"]

#: The permission the action needs.
ERASE_PERMISSION = "eventstore.erase_data_subject"


def _may_erase(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm(ERASE_PERMISSION))


@admin.action(
    description="Erase their personal data from the audit trail",
    permissions=["erase_data_subject"],
)
def erase_personal_data(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> TemplateResponse | None:
    """Show the confirmation page, or (confirmed) erase each selected user's subject."""
    if not _may_erase(request):  # the action is not even listed without the permission
        modeladmin.message_user(request, "You may not erase personal data.", messages.ERROR)
        return None
    users = list(queryset)
    if request.POST.get("confirm") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Erase their personal data from the audit trail?",
            "users": users,
            "subjects": [f"user:{user.pk}" for user in users],
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "erase_personal_data",
        }
        return TemplateResponse(request, "eventstore/erase_confirmation.html", context)
    store = eventstores["default"]
    for user in users:
        subject = f"user:{user.pk}"
        try:
            erasure = store.erase_subject(subject, erased_by=request.user.get_username())
        except UnknownSubjectError:
            modeladmin.message_user(
                request, f"{subject}: the audit trail holds no personal data of this user."
            )
            continue
        modeladmin.message_user(request, describe(erasure), messages.SUCCESS)
    return None


def install_erase_action(site: admin.AdminSite | None = None) -> bool:
    """Add the action to ``site``'s user admin (the default site); return whether there is one.

    Idempotent. The user admin gets a ``has_erase_data_subject_permission``
    method (what ``permissions=["erase_data_subject"]`` asks for) if it has none.
    """
    site = site or admin.site
    model_admin = site._registry.get(get_user_model())
    if model_admin is None:
        return False
    actions = list(model_admin.actions or [])
    if erase_personal_data not in actions:
        model_admin.actions = [*actions, erase_personal_data]
    if not hasattr(model_admin, "has_erase_data_subject_permission"):
        model_admin.has_erase_data_subject_permission = _may_erase  # type: ignore[attr-defined]
    return True
