"""A URLconf with an API for the test ledger, so the pages can link to an aggregate's own API.

:class:`tests.eventstore.ledger.Account` names these URLs in its ``api_url_names``;
the views only need to exist for the links to be reversed.
"""

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def account_history(request: HttpRequest, account_id: str) -> JsonResponse:
    return JsonResponse({"account_id": account_id, "kind": "history"})


def account_replay(request: HttpRequest, account_id: str) -> JsonResponse:
    return JsonResponse({"account_id": account_id, "kind": "replay"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/ledger/<str:account_id>/history/", account_history, name="ledger-account-history"),
    path("api/ledger/<str:account_id>/replay/", account_replay, name="ledger-account-replay"),
    path("api/", include("eventstore.api.urls")),
]
