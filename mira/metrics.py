"""Every Prometheus metric of mira, defined once (prometheus-client, default registry).

Labels come from bounded sets only: group names and sources (those the manifest names, any
other source is ``_unknown``), dead-letter reason codes, decisions, topics and partitions (a
revoked partition's series is removed), Triton endpoint addresses (removed when the address
leaves).  Never label by document id or by a source the manifest does not name.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_E2E_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

DOCS_IN = Counter("mira_documents_in_total", "Messages consumed from the input topic", ["topic"])
DOCS_ACCEPTED = Counter(
    "mira_documents_accepted_total", "Documents delivered to the accepted topic", ["group"]
)
DOCS_REJECTED = Counter(
    "mira_documents_rejected_total",
    "Documents rejected (delivered to the rejected topic, or dropped when it is disabled)",
    ["group"],
)
DOCS_BY_SOURCE = Counter(
    "mira_documents_by_source_total",
    "Scored documents delivered, by source (named in the manifest, else _unknown) and decision",
    ["source", "decision"],
)
DOCS_DEAD = Counter(
    "mira_documents_dead_lettered_total", "Messages delivered to the dead-letter topic", ["reason"]
)
BATCH_SIZE = Histogram(
    "mira_batch_size", "Documents per inference request", ["group"], buckets=_BATCH_BUCKETS
)
TRITON_LATENCY = Histogram(
    "mira_triton_latency_seconds",
    "Triton inference round trip",
    ["group"],
    buckets=_LATENCY_BUCKETS,
)
TRITON_ERRORS = Counter(
    "mira_triton_errors_total", "Failed inference requests (each retry counts)", ["group"]
)
TRITON_TIMEOUTS = Counter(
    "mira_triton_timeouts_total",
    "Inference requests past their client deadline (the server may still have computed them)",
    ["model"],
)
TRITON_ENDPOINTS = Gauge(
    "mira_triton_endpoints",
    "Triton endpoints resolved from triton.grpc_url, by state (up: server ready)",
    ["state"],
)
TRITON_ENDPOINT_REQUESTS = Counter(
    "mira_triton_endpoint_requests_total",
    "Inference requests per Triton endpoint address and result (ok or error)",
    ["endpoint", "result"],
)
TOKENIZE_SECONDS = Histogram(
    "mira_tokenize_seconds", "Time to tokenize one batch", ["group"], buckets=_LATENCY_BUCKETS
)
E2E_LATENCY = Histogram(
    "mira_end_to_end_latency_seconds",
    "Input message timestamp to delivery (outputs acked and offsets committed)",
    buckets=_E2E_BUCKETS,
)
IN_FLIGHT = Gauge("mira_inference_in_flight", "Inference requests in flight")
PENDING = Gauge("mira_pending_documents", "Consumed documents not yet delivered and committed")
CONSUMER_LAG = Gauge(
    "mira_consumer_lag", "High watermark minus position, per partition", ["topic", "partition"]
)
COMMITS = Counter("mira_commits_total", "Offset commits (or committed transactions)", ["mode"])
COMMIT_ERRORS = Counter("mira_commit_errors_total", "Failed commits or aborted transactions")
ASSIGNED = Gauge("mira_assigned_partitions", "Input partitions assigned to this scorer")
PAUSED = Gauge("mira_partitions_paused", "Partitions paused for backpressure or Triton outage")
READY = Gauge("mira_ready", "1 when the scorer is ready (assigned, Triton reachable)")
MANIFEST_RELOADS = Counter("mira_manifest_reloads_total", "Manifest reloads", ["result"])
MODEL_VERSION = Gauge("mira_model_version", "Model version used in requests", ["group"])
MODEL_INTEGRITY_FAILURES = Counter(
    "mira_model_integrity_failures_total",
    "Model files refused because their sha256 differs from the manifest (or they are missing)",
)
