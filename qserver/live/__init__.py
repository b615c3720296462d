"""The live side: the hub fans each site's stream out to the websocket clients of this process.

:mod:`.hub` (subscriptions, replay with ``since``, snapshots, fan-out), :mod:`.clients` (a subscriber
and its bounded backlog), :mod:`.frames` (frames encoded once), :mod:`.endpoint` (``/ws``),
:mod:`.fanout_protocol` (uvicorn's websockets protocol that lets the hub write frames itself).
"""
