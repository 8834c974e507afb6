"""Least-privilege Kafka ACLs for mira's two principals (kafka-python admin API).

- the producer may write (and, optionally, create) the input topic;
- the scorer may read the input topic with its consumer group, write the output topics and use
  its transactional id (exactly-once); nothing else.

``WRITE`` and ``READ`` imply ``DESCRIBE`` on the same resource, which is all the metadata the
clients need. Since Kafka 3.0 an idempotent producer needs no cluster-level ``IDEMPOTENT_WRITE``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mira.services.common import ServiceError


def _acl(principal: str, operation: str, kind: str, name: str, prefixed: bool = False) -> Any:
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
    )

    pattern = ACLResourcePatternType.PREFIXED if prefixed else ACLResourcePatternType.LITERAL
    return ACL(
        principal,
        "*",
        ACLOperation[operation],
        ACLPermissionType.ALLOW,
        ResourcePattern(ResourceType[kind], name, pattern),
    )


def producer_acls(principal: str, topic: str, create: bool = False) -> list[Any]:
    """Write ``topic`` (and create it, with ``create``)."""
    ops = ["WRITE", "CREATE"] if create else ["WRITE"]
    return [_acl(principal, op, "TOPIC", topic) for op in ops]


def scorer_acls(
    principal: str,
    *,
    input_topic: str,
    output_topics: Sequence[str],
    group_id: str,
    transactional_id: str,
    txid_prefixed: bool = False,
) -> list[Any]:
    """Read the input with the group, write the outputs, use the transactional id.

    ``txid_prefixed`` grants every transactional id starting with ``transactional_id`` (the
    default id is ``<group_id>-<hostname>``: one grant for all replicas).
    """
    acls = [
        _acl(principal, "READ", "TOPIC", input_topic),
        _acl(principal, "READ", "GROUP", group_id),
        _acl(principal, "WRITE", "TRANSACTIONAL_ID", transactional_id, txid_prefixed),
    ]
    acls += [_acl(principal, "WRITE", "TOPIC", topic) for topic in output_topics]
    return acls


def grant(admin: Any, acls: Iterable[Any]) -> int:
    """Create ``acls`` through a KafkaAdminClient; ServiceError naming any the broker refused."""
    acls = list(acls)
    result = admin.create_acls(acls)
    failed = result.get("failed") or []
    if failed:
        shown = ", ".join(sorted({getattr(err, "__name__", str(err)) for err in failed}))
        raise ServiceError(f"the broker refused {len(failed)} of {len(acls)} ACLs: {shown}")
    return len(acls)
