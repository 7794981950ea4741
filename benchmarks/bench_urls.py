"""URLconf of the HTTP benchmark: the project's URLs plus a bare JSON view to compare with.

``run.py`` points ``ROOT_URLCONF`` here while its in-process server runs, so
``POST /api/payments/`` and ``POST /bench/bare/`` go through the same server,
the same WSGI handler and the same middleware; only the view differs.
"""

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gyroscops.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def bare_view(request: HttpRequest) -> JsonResponse:
    """Parse the JSON body and answer ``{"ok": true}``: Django's floor for a JSON POST."""
    json.loads(request.body)
    return JsonResponse({"ok": True})


urlpatterns = [*project_urlpatterns, path("bench/bare/", bare_view, name="bench-bare")]
