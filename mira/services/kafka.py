"""A real single-node Apache Kafka 4 broker (KRaft: broker + controller) on loopback.

Jars come from ``$KAFKA_HOME/libs`` when set, else from Maven Central through
``deploy/local/kafka/pom.xml``, resolved once into ``~/.cache/mira/kafka/<version>/libs``.
Replication factors and min ISR are 1, so idempotent producers and transactions work.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from mira.services.common import (
    Service,
    ServiceError,
    cache_dir,
    free_port,
    port_open,
    repo_root,
    require_binary,
)

log = logging.getLogger(__name__)

KAFKA_VERSION = "4.1.1"
_READY_LINE = b"Kafka Server started"

_LOG4J2 = """status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


def default_pom() -> Path:
    return Path(os.environ.get("MIRA_KAFKA_POM") or repo_root() / "deploy/local/kafka/pom.xml")


def resolve_jars(version: str = KAFKA_VERSION, pom: Path | None = None) -> Path:
    """The directory of Kafka jars: ``$KAFKA_HOME/libs``, else the Maven-resolved cache."""
    home = os.environ.get("KAFKA_HOME")
    if home:
        libs = Path(home) / "libs"
        if not any(libs.glob("kafka_2.13-*.jar")):
            raise ServiceError(f"KAFKA_HOME={home} has no libs/kafka_2.13-*.jar")
        return libs
    pom = pom or default_pom()
    target = cache_dir() / "kafka" / version / "libs"
    stamp = _stamp(version, pom)
    if _cached(target, stamp):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be resolving right now
        if not _cached(target, stamp):
            _maven_copy(version, pom, target)
            (target / ".complete").write_text(stamp)
    return target


def _stamp(version: str, pom: Path) -> str:
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16] if pom.exists() else "no-pom"
    return f"{version} {digest}\n"


def _cached(target: Path, stamp: str) -> bool:
    done = target / ".complete"
    return done.exists() and done.read_text() == stamp


def _maven_copy(version: str, pom: Path, target: Path) -> None:
    mvn = require_binary("mvn", "install Maven (apt-get install maven) or set KAFKA_HOME")
    if not pom.exists():
        raise ServiceError(f"Kafka pom not found at {pom} (set MIRA_KAFKA_POM or KAFKA_HOME)")
    staging = target.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        f"-Dkafka.version={version}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    log.info("resolving Kafka %s jars from Maven Central into %s", version, target)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise ServiceError(
            f"Maven could not resolve Kafka {version} (exit {done.returncode}):\n{tail}"
        )
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class KafkaBroker(Service):
    """One KRaft broker+controller; ``.bootstrap`` is ``127.0.0.1:PORT``."""

    name = "kafka"
    log4j = _LOG4J2

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        version: str = KAFKA_VERSION,
        heap: str = "512m",
        port: int | None = None,
        ready_timeout_s: float = 90.0,
        extra_config: dict[str, str] | None = None,
    ):
        super().__init__(workdir, ready_timeout_s)
        self.version = version
        self.heap = heap
        self.port = port or free_port()
        self.controller_port = free_port()
        self._fixed_port = port is not None
        self.extra_config = dict(extra_config or {})
        self.config_path = self.workdir / "server.properties"
        self.data_dir = self.workdir / "data"
        self._libs: Path | None = None
        self._java = ""

    def _pick_ports(self) -> None:
        if not self._fixed_port:
            self.port = free_port()
        self.controller_port = free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def endpoints(self) -> dict[str, str]:
        return {"bootstrap": self.bootstrap}

    def _properties(self) -> dict[str, str]:
        listen = f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": listen,
            "advertised.listeners": listen,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "1",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "log.retention.hours": "24",
        }
        props.update(self.extra_config)
        return props

    def _jvm(self) -> list[str]:
        assert self._libs is not None
        return [
            self._java,
            f"-Xmx{self.heap}",
            "-Xms64m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Xshare:auto",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.properties'}",
            "-cp",
            f"{self._libs}/*",
        ]

    def _prepare(self) -> None:
        self._java = require_binary("java", "install a JDK 17+ (apt-get install openjdk-17-jre)")
        self._libs = resolve_jars(self.version)
        shutil.rmtree(self.data_dir, ignore_errors=True)  # a new broker: fresh storage
        (self.workdir / "log4j2.properties").write_text(self.log4j)
        self.config_path.write_text("".join(f"{k}={v}\n" for k, v in self._properties().items()))
        cmd = [
            *self._jvm(),
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            f"--cluster-id={_cluster_id()}",
            "-c",
            str(self.config_path),
        ]
        with self.log_path.open("ab") as out:
            done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise ServiceError(
                f"formatting Kafka storage failed (exit {done.returncode}); see {self.log_path}"
            )

    def _command(self) -> list[str]:
        return [*self._jvm(), "kafka.Kafka", str(self.config_path)]

    def _is_ready(self) -> bool:
        if not port_open("127.0.0.1", self.port):
            return False
        return _READY_LINE in self._log_since_start()


class ExternalKafka:
    """A broker someone else runs (``MIRA_KAFKA_BOOTSTRAP``): start/stop do nothing."""

    name = "kafka"
    log_path: Path | None = None

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap

    def endpoints(self) -> dict[str, str]:
        return {"bootstrap": self.bootstrap}

    def start(self) -> ExternalKafka:
        return self

    def stop(self) -> None:
        return None

    def close(self) -> None:
        return None


def external_bootstrap() -> str | None:
    """``MIRA_KAFKA_BOOTSTRAP`` when the user already runs a broker, else None."""
    return os.environ.get("MIRA_KAFKA_BOOTSTRAP") or None
