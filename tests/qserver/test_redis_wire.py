"""Commands packed by hiredis (qserver.redis_wire): the same bytes as redis-py's own packer, on every
kind of connection connect_redis makes, and a real Redis answers them."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError

from qserver.connection import connect_redis
from qserver.redis_wire import pack_with_hiredis

COMMANDS = [
    ("GET", "k"),
    ("SET", b"k", "vi\u1ec7t nam", "EX", 60),
    ("XINFO STREAM", "{cantho}:events"),             # a command name of two words
    ("EVALSHA", "a" * 40, 3, "k1", "k2", "k3", 1764640000000, 2.5, -7, "", b"\x00\xff"),
    ("HSET", "h", "f", "x" * 70_000),                 # a value over redis-py's buffer cutoff
]


@pytest.mark.parametrize("url, kind", [("redis://127.0.0.1:6390/0", Connection),
                                       ("unix:///tmp/nowhere.sock", UnixDomainSocketConnection),
                                       ("rediss://127.0.0.1:6390/0", SSLConnection)])
def test_every_connection_kind_packs_the_same_bytes(url, kind):
    """Whatever the URL, connect_redis's connections are of its kind and put the bytes redis-py's
    Python packer would on the wire, for every shape of argument."""
    pool = connect_redis(url).connection_pool
    assert issubclass(pool.connection_class, kind) and pool.connection_class is not kind
    ours = pool.make_connection()
    reference = Connection()
    for command in COMMANDS:
        assert b"".join(ours.pack_command(*command)) == b"".join(reference.pack_command(*command)), command[0]
    assert b"".join(ours.pack_commands(COMMANDS)) == b"".join(reference.pack_commands(COMMANDS))


def test_values_redis_py_refuses_are_still_refused():
    """None and booleans are refused (DataError), as redis-py refuses them, not sent as text."""
    connection = connect_redis("redis://127.0.0.1:6390/0").connection_pool.make_connection()
    for value in (None, True):
        with pytest.raises(DataError):
            connection.pack_command("SET", "k", value)


def test_packing_twice_changes_nothing():
    """A pool given hiredis packing twice keeps one packing class."""
    pool = connect_redis("redis://127.0.0.1:6390/0").connection_pool
    first = pool.connection_class
    assert pack_with_hiredis(pool).connection_class is first


async def test_a_real_redis_answers_packed_commands(redis_url, flushed):
    """Scripts with many keys, pipelines and unicode values round-trip through a real Redis."""
    client = connect_redis(redis_url)
    try:
        keys = [f"{{t}}:k{i}" for i in range(30)]
        script = client.register_script("for i, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1]) end "
                                        "return redis.call('GET', KEYS[#KEYS])")
        assert await script(keys=keys, args=["Sở Nội vụ"]) == "Sở Nội vụ".encode()
        pipe = client.pipeline(transaction=False)
        pipe.set("{t}:n", 41)
        pipe.incr("{t}:n")
        pipe.get("{t}:k0")
        assert await pipe.execute() == [True, 42, "Sở Nội vụ".encode()]
    finally:
        await client.aclose()
