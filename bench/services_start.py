"""Cold start of the local services (Kafka jars already cached): seconds from start() to ready.

.venv/bin/python bench/services_start.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mira.services.kafka import KafkaBroker, resolve_jars
from mira.services.kafka_secure import SecureKafkaBroker
from mira.services.prometheus import PrometheusServer
from mira.services.tls import make_pki
from mira.services.triton import TritonServer, TritonTls

MODELS = Path(__file__).resolve().parents[1] / "tests/integration/services/models"


def timed(make) -> float:  # type: ignore[no-untyped-def]
    service = make()
    began = time.perf_counter()
    service.start()
    secs = time.perf_counter() - began
    service.close()
    return secs


def _tls() -> TritonTls:
    import tempfile

    pki = make_pki(Path(tempfile.mkdtemp(prefix="mira-bench-pki-")), ["triton"])
    return TritonTls(pki["triton"].cert, pki["triton"].key, pki.ca, mutual=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    resolve_jars()  # cached jars: not part of the cold start
    cases = {
        "kafka (format + start)": lambda: KafkaBroker(),
        "kafka SASL_SSL + mTLS + ACLs (certificates + format + start)": lambda: SecureKafkaBroker(),
        "triton (no model)": lambda: TritonServer(MODELS, explicit=True),
        "triton gRPC mutual TLS (no model)": lambda: TritonServer(
            MODELS, explicit=True, tls=_tls()
        ),
        "triton (1 python model at start)": lambda: TritonServer(MODELS, explicit=False),
        "prometheus": lambda: PrometheusServer(["127.0.0.1:9"]),
    }
    print("| service | best s | median s |\n|---|---:|---:|")
    for name, make in cases.items():
        runs = sorted(timed(make) for _ in range(args.repeats))
        print(f"| {name} | {runs[0]:.1f} | {runs[len(runs) // 2]:.1f} |")


if __name__ == "__main__":
    main()
