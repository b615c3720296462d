"""Real Redis topologies for the suite: a Sentinel group (master, replica, three sentinels) and a Redis
Cluster (masters with a replica each). Every process runs on free loopback ports with its data in a temp
folder and is stopped by its own pid; nothing is left running after ``stop()``."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import redis as sync_redis
from redis.cluster import ClusterNode, RedisCluster

from qserver.embedded_redis import find_redis_server
from tests.support import TIMEOUT, wait_until

__all__ = ["RedisProcess", "SentinelGroup", "Cluster", "MASTER_NAME", "free_ports"]

#: The master name the sentinels monitor.
MASTER_NAME = "qmaster"


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (held open together while chosen, so none repeats)."""
    import socket

    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _binary() -> str:
    return find_redis_server(os.environ.get("QSERVER_REDIS_SERVER"))


def _answers(client) -> bool:
    try:
        return bool(client.ping())
    except sync_redis.RedisError:
        return False


class RedisProcess:
    """One redis-server (data node, cluster node or sentinel) with its own folder and log."""

    def __init__(self, directory: Path, port: int, *args: str, config_text: str | None = None):
        self.directory = directory
        self.port = port
        self.args = list(args)
        self.config_text = config_text
        self.process: subprocess.Popen | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client(self, **options) -> sync_redis.Redis:
        return sync_redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=TIMEOUT, **options)

    def start(self) -> None:
        command = [_binary()]
        if self.config_text is not None:  # sentinels rewrite their file: it must be theirs
            path = self.directory / "sentinel.conf"
            if not path.exists():
                path.write_text(self.config_text)
            command += [str(path), "--sentinel"]
        command += ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                    "--daemonize", "no", "--logfile", str(self.directory / "redis.log"), *self.args]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        try:
            wait_until(lambda: self._alive() and _answers(client), what=f"redis-server on {self.port}")
        finally:
            client.close()

    def _alive(self) -> bool:
        if self.process.poll() is not None:
            log = self.directory / "redis.log"
            raise RuntimeError(f"redis-server on {self.port} exited: "
                               f"{log.read_text()[-1500:] if log.exists() else '(no log)'}")
        return True

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last write (a host that dies)."""
        self.stop(signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class SentinelGroup:
    """A master, one replica and three sentinels (quorum 2): a dead master is replaced in a few seconds."""

    def __init__(self, directory: Path, *, down_after_ms: int = 1000, failover_timeout_ms: int = 3000,
                 sentinels: int = 3):
        ports = free_ports(2 + sentinels)
        data = ("--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
                # a replica that lost its master must still answer reads of what it has
                "--replica-serve-stale-data", "yes")
        self.master = RedisProcess(directory / "master", ports[0], *data)
        self.replica = RedisProcess(directory / "replica", ports[1], *data, "--replicaof", "127.0.0.1", str(ports[0]))
        self.sentinels = [
            RedisProcess(directory / f"sentinel-{i}", port, config_text=(
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {ports[0]} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}\n"
                f"sentinel failover-timeout {MASTER_NAME} {failover_timeout_ms}\n"
                f"sentinel parallel-syncs {MASTER_NAME} 1\n"))
            for i, port in enumerate(ports[2:])]

    @property
    def data_nodes(self) -> list[RedisProcess]:
        return [self.master, self.replica]

    def url(self, master_name: str = MASTER_NAME, db: int | None = None) -> str:
        hosts = ",".join(s.address for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{master_name}" + (f"/{db}" if db is not None else "")

    def start(self) -> None:
        self.master.start()
        self.replica.start()
        wait_until(lambda: self._replica_synced(self.replica), what="the replica to sync")
        for sentinel in self.sentinels:
            sentinel.start()
        wait_until(self._sentinels_ready, what="the sentinels to see the replica and each other")

    def _replica_synced(self, node: RedisProcess) -> bool:
        with node.client() as client:
            info = client.info("replication")
        return info.get("role") == "slave" and info.get("master_link_status") == "up"

    def _sentinels_ready(self) -> bool:
        for sentinel in self.sentinels:
            with sentinel.client() as client:
                state = client.sentinel_master(MASTER_NAME)
            if state["num-slaves"] < 1 or state["num-other-sentinels"] < len(self.sentinels) - 1:
                return False
        return True

    def master_address(self) -> tuple[str, int]:
        """Where the sentinels say the master is now (the first sentinel that answers)."""
        for sentinel in self.sentinels:
            if not sentinel.running:
                continue
            with sentinel.client() as client:
                host, port = client.sentinel_get_master_addr_by_name(MASTER_NAME)
            return (host.decode() if isinstance(host, bytes) else host), int(port)
        raise RuntimeError("no sentinel runs")

    def stop(self) -> None:
        for process in [*self.sentinels, *self.data_nodes]:
            process.stop()


class Cluster:
    """A Redis Cluster of ``masters`` primaries with ``replicas`` replicas each, made by ``redis-cli --cluster
    create``; node timeout 1 s so a dead master is replaced within a few seconds."""

    def __init__(self, directory: Path, *, masters: int = 3, replicas: int = 1, node_timeout_ms: int = 1000):
        count = masters * (1 + replicas)
        ports = free_ports(2 * count)
        self.replicas = replicas
        self.nodes = [
            RedisProcess(directory / f"node-{port}", port, "--cluster-enabled", "yes",
                         "--cluster-config-file", f"nodes-{port}.conf", "--cluster-port", str(bus),
                         "--cluster-node-timeout", str(node_timeout_ms), "--save", "", "--appendonly", "yes",
                         "--appendfsync", "everysec")
            for port, bus in zip(ports[:count], ports[count:])]

    def url(self) -> str:
        return "redis+cluster://" + ",".join(node.address for node in self.nodes[:3])

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        create = subprocess.run(
            ["redis-cli", "--cluster", "create", *(n.address for n in self.nodes),
             "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            capture_output=True, text=True, timeout=4 * TIMEOUT)
        if create.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {create.stdout[-1500:]} {create.stderr[-500:]}")
        wait_until(self.healthy, timeout=4 * TIMEOUT, interval=0.1, what="the cluster to be ok on every node")

    def healthy(self) -> bool:
        """Every running node says ok, knows every other running node, and every primary has its replicas
        in sync."""
        running = [n for n in self.nodes if n.running]
        for node in running:
            with node.client() as client:
                info = client.cluster("info")
                if info.get("cluster_state") != "ok":
                    return False
                if int(info.get("cluster_known_nodes", 0)) < len(self.nodes):
                    return False
                replication = client.info("replication")
                if replication.get("role") == "slave" and replication.get("master_link_status") != "up":
                    return False
        return True

    def client(self) -> RedisCluster:
        """A synchronous cluster client (tokens, checks); close it after use."""
        startup = [ClusterNode("127.0.0.1", n.port) for n in self.nodes if n.running]
        return RedisCluster(startup_nodes=startup, socket_timeout=TIMEOUT)

    def primaries(self) -> list[RedisProcess]:
        """The nodes that are primaries now (as each running node says of itself)."""
        found = []
        for node in self.nodes:
            if node.running:
                with node.client() as client:
                    if client.info("replication").get("role") == "master":
                        found.append(node)
        return found

    def by_port(self, port: int) -> RedisProcess:
        return next(node for node in self.nodes if node.port == port)

    def replica_of(self, primary: RedisProcess) -> RedisProcess:
        with primary.client() as client:
            replication = client.info("replication")
        port = int(replication["slave0"]["port"])
        return self.by_port(port)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

