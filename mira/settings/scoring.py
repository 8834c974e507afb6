"""Settings of scoring: the engine (``mira filter``, ``mira score``) and the streaming scorer."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from mira.settings.section import Section


class EngineSettings(Section):
    """The scoring engine shared by ``mira filter``, ``mira score`` and calibration."""

    pre_cut_margin: float = Field(
        1.3,
        ge=1.0,
        description="Texts are cut to max_length x the "
        "source's measured characters per token x this before "
        "tokenizing.",
    )
    retry_initial_s: float = Field(
        0.1, gt=0, description="First backoff after an infrastructure failure."
    )
    retry_max_s: float = Field(5.0, gt=0, description="Longest backoff.")
    ambiguous_retries: int = Field(
        3,
        ge=0,
        description="Retries of a batch failing with an "
        "ambiguous error (INTERNAL) before it is split to find a "
        "document at fault.",
    )
    local_max_attempts: int = Field(
        3,
        ge=1,
        description="mira filter: attempts of a batch "
        "before an infrastructure failure ends the run.",
    )
    ort_threads: int | None = Field(
        None, ge=1, description="onnxruntime intra-op threads (default: all cores)."
    )


class ScorerSettings(Section):
    group_id: str = Field("mira-scorer", description="Kafka consumer group.")
    manifest: Path = Field(
        Path("model_repository/mira_manifest.json"), description="Model repository manifest."
    )
    delivery: Literal["at-least-once", "exactly-once"] = Field(
        "at-least-once", description="Delivery guarantee of the streaming scorer."
    )
    batch_size: int = Field(64, ge=1, description="Documents per inference batch.")
    max_wait_ms: int = Field(20, ge=0, description="Longest a partial batch waits.")
    unknown_source: Literal["fallback", "dead-letter"] = Field(
        "fallback", description="Unseen sources: score with the fallback group, or dead-letter."
    )
    tokenizer_workers: int = Field(1, ge=1, description="Tokenizer processes (1 = a thread).")
    metrics_port: int = Field(
        9400, ge=0, le=65535, description="Port of /metrics, /healthz, /readyz (0 = any free port)."
    )
    drain_timeout_s: float = Field(20.0, gt=0, description="SIGTERM drain bound.")
    max_pending: int = Field(4096, ge=1, description="Pause input above this many documents.")
    commit_interval_ms: int = Field(200, ge=1, description="How often outputs are delivered.")
    poll_ms: int = Field(
        50,
        ge=1,
        description="Longest a poll waits while documents are in "
        "progress (bounds how late finished work is delivered).",
    )
    idle_poll_ms: int = Field(
        2000,
        ge=1,
        description="Longest a poll waits when nothing is in "
        "progress; a record ends the wait at once (idle CPU, and how "
        "late SIGTERM is noticed when idle).",
    )
    probe_interval_s: float = Field(
        5.0,
        gt=0,
        description="Triton readiness probe period while "
        "Triton answers (every second while it does not).",
    )
    delivery_timeout_s: float = Field(
        60.0, gt=0, description="At-least-once: longest wait for the acks of one delivery cycle."
    )
    revoke_drain_s: float = Field(
        5.0,
        ge=0,
        description="kafka.client confluent: how long a "
        "revocation waits for the revoked partitions' documents in "
        "flight, so their results are committed before the partitions "
        "go (keep well under session_timeout_ms).",
    )
    reload_interval_s: float = Field(5.0, gt=0, description="Manifest change check interval.")
    transactional_id: str | None = Field(
        None, description="Exactly-once producer id (default: <group_id>-<hostname>)."
    )
    fence_renewals: int = Field(
        3,
        ge=0,
        description="kafka.client confluent with instance_id: a "
        "static member fenced after its session expired (a broker "
        "outage longer than session_timeout_ms) is replaced by a fresh "
        "consumer at most this many times in 10 minutes; then it exits.",
    )
    instance_id: str | None = Field(
        None, description="Static group membership id (e.g. the StatefulSet pod name)."
    )
    session_timeout_ms: int = Field(45_000, ge=1000, description="Consumer session timeout.")
    max_poll_interval_ms: int = Field(300_000, ge=1000, description="Consumer poll interval.")
    max_poll_records: int = Field(500, ge=1, description="Records per consumer poll.")
    transaction_timeout_ms: int = Field(15_000, ge=1000, description="Transaction timeout.")
    metadata_max_age_ms: int = Field(30_000, ge=1000, description="Metadata refresh interval.")
    rollout_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Longest a reload waits for a new "
        "model version to be ready on every Triton endpoint (then "
        "the old manifest stays and the next poll tries again).",
    )
