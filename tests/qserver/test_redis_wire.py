"""qserver's connection classes (qserver.redis_wire): commands packed by hiredis, the same bytes as
redis-py's own packer, on every kind of connection connect_redis makes, and a real Redis answers them; a
connection closed by another task under a command is a ConnectionError, never an AttributeError."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, RedisError

from qserver.connection import connect_redis
from qserver.redis_wire import wire, wired

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
    assert wire(pool).connection_class is first


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


async def test_a_connection_closed_under_a_command_is_a_connection_error(redis_url, flushed):
    """Another task closes a connection (as redis-py's cluster client does to every connection of its
    nodes in a fail-over) while this one connects and sends: the sender gets a RedisError
    (ConnectionError), which redis-py's retries know, never the AttributeError of a writer gone (the 500
    CI met in the cluster fail-over test)."""
    pool = connect_redis(redis_url, name="qserver-test").connection_pool
    # a short read timeout: a read left waiting on a socket closed by our side ends at it
    connection = pool.connection_class(**{**pool.connection_kwargs, "socket_timeout": 0.2})
    # closed at every point of the handshake in turn (where the close lands depends on when Redis
    # answers): whatever the point, a RedisError or nothing
    for steps in range(40):
        sending = asyncio.create_task(connection.send_packed_command(connection.pack_command("PING")))
        for _ in range(steps):
            await asyncio.sleep(0)
        await connection.disconnect(nowait=True)
        try:
            await sending
        except RedisError:
            pass
        await connection.disconnect()

    # and the narrow moment itself, made certain: closed after the handshake's check, before the write
    # (redis-py 8.2 checks the writer itself there; 8.1 let the AttributeError out)
    async def closed_by_another_task():
        await connection.disconnect(nowait=True)

    connection.check_health = closed_by_another_task
    with pytest.raises(RedisConnectionError):
        await connection.send_packed_command(connection.pack_command("PING"))
    del connection.check_health
    await connection.connect()  # and the connection is usable again
    await connection.send_command("PING")
    assert await connection.read_response() == b"PONG"
    await connection.disconnect()


async def test_a_writer_gone_under_a_redis_py_write_is_a_connection_error(redis_url, flushed):
    """Where redis-py lets the AttributeError (or on Python 3.12+ the TypeError) of a writer torn down
    under its write out (redis-py 8.1, #4287), qserver's connection turns it into a ConnectionError, the
    connection left disconnected and usable again."""
    class Leaky(Connection):
        leak: type[Exception] | None = None  # what the next write lets out, after another task closed it

        async def _send_packed_command(self, command):
            leak, self.leak = self.leak, None
            if leak is None:
                return await super()._send_packed_command(command)
            await self.disconnect(nowait=True)
            raise leak("'NoneType' object has no attribute 'writelines'")

    connection = wired(Leaky)(**connect_redis(redis_url).connection_pool.connection_kwargs)
    for leak in (AttributeError, TypeError):
        await connection.connect()
        connection.leak = leak
        with pytest.raises(RedisConnectionError) as caught:
            await connection.send_packed_command(connection.pack_command("PING"))
        assert isinstance(caught.value.__cause__, leak) and not connection.is_connected
    await connection.send_command("PING")
    assert await connection.read_response() == b"PONG"
    await connection.disconnect()
