"""Nudges from the site's stream to the province's SMS / Zalo OA gateway: signed webhooks delivered by a
worker that reads the stream (never on the call path), at least once and in order, one process per site
(docs/webhooks.md).

- :mod:`.signing` signs and checks a body (HMAC-SHA256, the ``X-QServer-Signature`` header);
- :mod:`.payloads` says which events become which webhook and builds the JSON body (pure);
- :mod:`.worker` holds the site leases, sweeps bookings, marks near turns and delivers.
"""

from .payloads import WEBHOOK_KINDS, build_payload, webhook_kind
from .signing import SIGNATURE_HEADER, sign, verify
from .worker import HomeWorker

__all__ = ["HomeWorker", "WEBHOOK_KINDS", "SIGNATURE_HEADER", "build_payload", "sign", "verify", "webhook_kind"]
