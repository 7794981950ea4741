"""URLconf of the HTTP benchmark: the project's URLs plus two views to compare with.

The gunicorn server of ``benchmarks/http_workloads.py`` runs with this URLconf
(``benchmarks.http_settings``), so ``POST /api/payments/``, ``POST
/bench/echo/`` and ``POST /bench/bare/`` go through the same server, the same
WSGI handler and the same middleware; only the view differs.
"""

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gyroscops.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def bare_view(request: HttpRequest) -> JsonResponse:
    """Parse the JSON body and answer ``{"ok": true}``: Django's floor for a JSON POST."""
    json.loads(request.body)
    return JsonResponse({"ok": True})


class EchoView(APIView):
    """A DRF view that answers its parsed JSON body back (201), nothing else.

    Authentication, parsers and renderers are the project's defaults
    (``REST_FRAMEWORK`` settings), as on ``/api/payments/``: the same token
    authentication, the same JSON parser and renderer, ``IsAuthenticated``.
    """

    permission_classes = [IsAuthenticated]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(request.data, status=201)


urlpatterns = [
    *project_urlpatterns,
    path("bench/bare/", bare_view, name="bench-bare"),
    path("bench/echo/", EchoView.as_view(), name="bench-echo"),
]
