"""Helpers of the hub's tests: websocket URLs, receiving frames, and a small API client."""

from __future__ import annotations

import asyncio
import json

import msgpack

from tests.support import TIMEOUT

SITE = "/api/v1/sites/cantho"
NOI_VU, TU_PHAP = "so-noi-vu", "so-tu-phap"


def url(app, topics: str, **query) -> str:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    return f"{app.ws_url}?site=cantho&topics={topics}{extra}"


async def recv(ws, subprotocol: str = "json") -> dict:
    data = await asyncio.wait_for(ws.recv(), TIMEOUT)
    return msgpack.unpackb(data) if subprotocol == "msgpack" else json.loads(data)


async def recv_type(ws, kind: str, subprotocol: str = "json") -> dict:
    while True:
        frame = await recv(ws, subprotocol)
        if frame["type"] == kind:
            return frame


class Api:
    def __init__(self, app):
        self.app, self.http = app, app.client()
        self.kiosk = app.token("kiosk")
        self.manager = app.token("manager")

    async def issue(self, agency: str = NOI_VU) -> dict:
        r = await self.http.post(f"{SITE}/tickets", json={"agency": agency}, headers={"Authorization": f"Bearer {self.kiosk}"})
        assert r.status_code == 201, r.text
        return r.json()

    async def act(self, counter: str, action: str, **body) -> dict:
        r = await self.http.post(f"{SITE}/counters/{counter}/{action}", json=body,
                                 headers={"Authorization": f"Bearer {self.manager}"})
        assert r.status_code == 200, r.text
        return r.json()
