"""The query layer: what the API and the admin pages read, computed once.

- :mod:`.filters`: event search parameters (django-filter) turned into store criteria.
- :mod:`.fields`: ISO 8601 time bounds for searches and analytics.
- :mod:`.scope`: which organizations' events a user may see.
- :mod:`.analytics`: statistics and trends in calendar buckets.
- :mod:`.csv`: CSV cells safe from formula injection, and streamed CSV lines.
- :mod:`.forms`: the analytics parameters, parsed and checked.
- :mod:`.paging`: pages of events newest first (the event browser).
- :mod:`.params`: whole numbers from query strings (positions, versions, page sizes).
- :mod:`.timelines`: events with their depth in the causation chain.

Neither surface (``eventstore.api``, ``eventstore.admin``) imports the other;
both import from here.
"""
