"""One Triton replica as the pool sees it, and where the replicas are.

``resolve`` turns a target host into every TCP address it has (a Kubernetes headless Service
answers with every ready Triton pod); each address becomes an ``Endpoint``: one client
(``EndpointClient``, a ``TritonBackend``) and what the pool knows of it (up, requests in flight,
model versions confirmed ready or lacking).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from mira.engine.backend import ModelRef


class EndpointClient(Protocol):
    """One Triton server (``TritonBackend``)."""

    async def score(
        self, model: ModelRef, input_ids: np.ndarray, attention_mask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...

    async def is_live(self) -> bool: ...

    async def model_ready(self, model: str, version: str) -> bool: ...

    async def load_model(self, model: str) -> None: ...

    async def close(self) -> None: ...


Connect = Callable[[str, str], EndpointClient]  # (address host:port, target host) -> client
Resolve = Callable[[str, int], Awaitable[list[str]]]


def address(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(host: str, port: int) -> list[str]:
    """Every TCP address of ``host`` (DNS through the event loop's resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({address(str(info[4][0]), port) for info in infos})


@dataclass(eq=False)
class Endpoint:
    address: str
    host: str  # the target host it was resolved from
    client: EndpointClient
    up: bool = False
    in_flight: int = 0
    ready: set[ModelRef] = field(default_factory=set)  # versions confirmed ready here
    lacking: set[ModelRef] = field(default_factory=set)  # versions in use it did not have
