"""WSGI entry point (gunicorn gyroscops.wsgi).

Once the application is built, this process claims the memory stores
(:func:`eventstore.serving.claim_serving`): a second worker or server of this
project on the memory backend refuses to boot instead of forking the history.
"""

import os

from django.core.wsgi import get_wsgi_application

from eventstore.serving import claim_serving

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gyroscops.settings")
application = get_wsgi_application()
claim_serving()
