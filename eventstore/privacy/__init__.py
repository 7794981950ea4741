"""Personal data in events: declarations, encryption per data subject, erasure.

One job per module:

- :mod:`.declarations`: what is personal (the ``personal`` class keyword,
  subject kinds, the ``EVENTSTORE_PERSONAL_METADATA`` setting) and :data:`ERASED`;
- :mod:`.cipher`: AES-256-GCM and the blind index (HMAC-SHA256);
- :mod:`.keys`: where the subjects' keys live (one key store per event store);
- :mod:`.sealing`: the stored form, sealed at append and revealed on read;
- :mod:`.erasure`: erasing a subject (its keys destroyed, an erasure event appended).

See the README's "Data protection" section for what this guarantees and what not.
"""

from .declarations import (
    DEFAULT_PERSONAL_METADATA,
    ERASED,
    ActingUser,
    DataField,
    PersonalData,
    parse_subject,
    personal_metadata_keys,
    user_subject,
)

__all__ = [
    "DEFAULT_PERSONAL_METADATA",
    "ERASED",
    "ActingUser",
    "DataField",
    "PersonalData",
    "parse_subject",
    "personal_metadata_keys",
    "user_subject",
]
