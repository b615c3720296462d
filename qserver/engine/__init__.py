"""The queue engine: Redis is the only live state, every transition one Lua script.

- :mod:`.keys` builds every key, :mod:`.scripts` holds every Lua script;
- :class:`SiteEngine` (:mod:`.site_engine`) runs a site's transitions and, through :class:`SiteReader`
  (:mod:`.reads`), its reads: state, queues, tickets, acknowledgements, the stream;
- :class:`StreamReader` (:mod:`.streams`) reads many sites' streams for the fan-out;
- :mod:`.hours` (receiving hours, service days) and :mod:`.cccd` (ID cards) are pure.

Nothing here knows HTTP, websockets or how objects are presented: answers are stored data, times in ms.
"""

from .batching import ScriptBatcher
from .keys import DAY_TTL_S, SiteKeys
from .reads import DEFAULT_SERVICE_S, SiteReader, day_bounds_ms, guarded
from .site_engine import COUNTER_ACTIONS, COUNTER_STATUSES, OUTCOMES, PRIORITIES, TICKET_STATUSES, SiteEngine, check_key
from .streams import StreamReader, read_streams

__all__ = [
    "SiteEngine", "SiteReader", "ScriptBatcher", "StreamReader", "SiteKeys", "DAY_TTL_S", "DEFAULT_SERVICE_S", "PRIORITIES",
    "OUTCOMES", "TICKET_STATUSES", "COUNTER_STATUSES", "COUNTER_ACTIONS", "check_key", "day_bounds_ms", "guarded",
    "read_streams",
]
