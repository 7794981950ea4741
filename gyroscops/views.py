"""Site-wide error pages: JSON under /api/ (as DRF answers), Django's pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: ``{"detail": "Not found.", "code": "not_found"}`` for API URLs."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: a JSON body for API URLs, so clients never have to parse an HTML page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            {"detail": "A server error occurred.", "code": "server_error"}, status=500
        )
    return defaults.server_error(request)
