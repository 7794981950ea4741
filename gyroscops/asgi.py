"""ASGI entry point (e.g. uvicorn gyroscops.asgi:application).

Once the application is built, this process claims the memory stores
(:func:`eventstore.serving.claim_serving`): a second worker or server of this
project on the memory backend refuses to start instead of forking the history.
"""

import os

from django.core.asgi import get_asgi_application

from eventstore.serving import claim_serving

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gyroscops.settings")
application = get_asgi_application()
claim_serving()
