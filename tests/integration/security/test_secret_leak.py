"""A password set for the CLIs never shows up: not in logs (text or JSON, DEBUG), /metrics and
the health endpoints, exception text, settings errors, ``--help`` or ``mira services status``."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mira.cli import COMMANDS, main
from mira.services.kafka_acl import producer_acls, scorer_acls
from mira.services.secure_local import LocalAccess, provision
from mira.services.state import ServicesState, record_of, save_state
from mira.services.tls import Pki
from mira.services.triton import TritonServer
from mira.settings import load_settings
from tests.fixtures.security import SecureKafka
from tests.integration.security.conftest import run_mira, secure_scorer_env
from tests.integration.streaming.conftest import SOURCES
from tests.integration.streaming.kafkautil import make_docs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USER = "leaky"
SECRET = "Mira-" + secrets.token_urlsafe(24)


def _forms(secret: str) -> set[str]:
    """The secret and its base64 spellings (standard, URL-safe; with and without padding)."""
    raw = secret.encode()
    out = {secret}
    for enc in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        out |= {enc.decode(), enc.decode().rstrip("=")}
    return out


def _assert_clean(seen: dict[str, str], secret: str = SECRET) -> None:
    forms = _forms(secret)
    assert all(len(f) >= 16 for f in forms)
    leaks = [label for label, text in seen.items() if any(f in text for f in forms)]
    assert not leaks, f"the password (or its base64) appears in: {leaks}"


@pytest.fixture
def leaky(secure_kafka: SecureKafka, secure_topics: dict[str, str]) -> dict[str, str]:
    """A user whose password is SECRET, with the producer's and the scorer's ACLs."""
    secure_kafka.broker.add_users({USER: SECRET})
    secure_kafka.passwords[USER] = SECRET
    principal = f"User:{USER}"
    secure_kafka.grant(
        producer_acls(principal, secure_topics["docs"])
        + scorer_acls(
            principal,
            input_topic=secure_topics["docs"],
            output_topics=[secure_topics[t] for t in ("accepted", "rejected", "dlq")],
            group_id=secure_topics["group"],
            transactional_id=secure_topics["txid"],
        )
    )
    return secure_topics


def _helps(env: dict[str, str]) -> dict[str, str]:
    runner = CliRunner(env=env)
    argvs = [[], *[[c] for c in COMMANDS], ["services", "up"], ["services", "status"]]
    return {f"mira {' '.join(a)} --help": runner.invoke(main, [*a, "--help"]).output for a in argvs}


def _produce(secure_kafka: SecureKafka, topics: dict[str, str], tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b"".join(v + b"\n" for _, v in make_docs(200, SOURCES)))
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    debug = {"MIRA_LOG_LEVEL": "DEBUG"}
    inline = run_mira(
        ["produce", str(path), "--topic", topics["docs"]], {**secure_kafka.env(USER), **debug}
    )
    from_file = run_mira(
        ["produce", str(path), "--topic", topics["docs"]],
        {**secure_kafka.env(USER, password_file=secret_file), **debug},
    )
    refused = run_mira(
        ["produce", str(path), "--topic", topics["accepted"] + "-nope"],
        {**secure_kafka.env(USER), **debug},
    )
    assert inline.code == 0 and from_file.code == 0, inline.out + from_file.out
    assert refused.code == 1 and "TopicAuthorizationFailedError" in refused.out, refused.out
    return {
        "produce (env, DEBUG)": inline.out,
        "produce (_FILE, DEBUG)": from_file.out,
        "produce refused (exception text)": refused.out,
    }


def _score(
    secure_kafka: SecureKafka,
    triton: TritonServer,
    pki: Pki,
    manifest: Path,
    topics: dict[str, str],
    scorers: Any,
) -> dict[str, str]:
    env = {
        **secure_scorer_env(secure_kafka, topics, manifest, triton, pki, user=USER),
        "MIRA_LOG_LEVEL": "DEBUG",
        "MIRA_LOG_JSON_FORMAT": "true",
    }
    scorer = scorers(env)
    scorer.wait_for("mira_commits_total", 1, timeout_s=90)
    pages = {}
    for path in ("/metrics", "/healthz", "/readyz"):
        with urllib.request.urlopen(scorer.url(path), timeout=5) as resp:
            pages[f"score {path}"] = resp.read().decode()
    assert scorer.terminate() == 0
    pages["score log (JSON, DEBUG)"] = scorer.log_path.read_text()
    return pages


def _settings_errors(tmp_path: Path, base: dict[str, str]) -> dict[str, str]:
    """Each case exits 2 with the one line it is about (checked), with the password set."""
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text(f"kafka:\n  sasl_password: [{SECRET}]\n")
    secret_file = tmp_path / "password2"
    secret_file.write_text(SECRET)
    no_env = {k: v for k, v in base.items() if k != "MIRA_KAFKA_SASL_PASSWORD"}
    cases = {
        "scorer.batch_size": {**base, "MIRA_SCORER_BATCH_SIZE": "0"},
        "kafka.sasl_passwordd": {**base, "MIRA_KAFKA_SASL_PASSWORDD": SECRET},
        "keep one": {**base, "MIRA_KAFKA_SASL_PASSWORD_FILE": str(secret_file)},
        "valid string": {**no_env, "MIRA_CONFIG": str(bad_file)},
        "cannot read manifest": {**base, "MIRA_SCORER_MANIFEST": str(tmp_path / "none.json")},
    }
    out = {}
    for expected, env in cases.items():
        done = run_mira(["score"], env, timeout_s=60)
        assert done.code == 2 and expected in done.out, f"{expected}: {done.code} {done.out}"
        out[f"settings error: {expected}"] = done.out
    return out


def _status(secure_kafka: SecureKafka, tmp_path: Path) -> dict[str, str]:
    """`mira services status` for a secure broker as `up --secure` records it."""
    record = record_of(secure_kafka.broker)
    access = LocalAccess(f"local-{secrets.token_hex(4)}", (), "local-group", 1)
    record.endpoints.update(provision(secure_kafka.broker, access))
    state = tmp_path / "state.json"
    save_state(ServicesState(services=[record]), state)
    done = run_mira(["services", "status"], {"MIRA_SERVICES_STATE": str(state)})
    assert done.code == 0 and "MIRA_KAFKA_SASL_PASSWORD_FILE=" in done.out, done.out
    local_password = Path(record.endpoints["password_file"]).read_text()
    _assert_clean({"services status (local user's password)": done.out}, local_password)
    return {"services status": done.out}


def test_the_password_never_appears(
    secure_kafka: SecureKafka,
    tls_triton: TritonServer,
    tls_pki: Pki,
    secure_manifest: Path,
    leaky: dict[str, str],
    scorer_factory: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    began = time.monotonic()
    base = secure_kafka.env(USER)
    seen = _helps(base)
    seen |= _produce(secure_kafka, leaky, tmp_path)
    seen |= _score(secure_kafka, tls_triton, tls_pki, secure_manifest, leaky, scorer_factory)
    seen |= _settings_errors(tmp_path, base)
    seen |= _status(secure_kafka, tmp_path)
    for key, value in base.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.kafka.client_kwargs()["sasl_plain_password"] == SECRET  # it is really set
    seen |= {
        "repr(settings)": repr(settings),
        "settings JSON": settings.model_dump_json(),
        "settings dict": json.dumps(settings.model_dump(mode="json")),
    }
    _assert_clean(seen)
    with pytest.raises(AssertionError):  # the check itself sees a leak
        _assert_clean({"control": "x" + base64.b64encode(SECRET.encode()).decode() + "x"})
    print(
        f"\nno password in {len(seen)} outputs "
        f"({sum(len(t) for t in seen.values()) // 1024} KiB) in {time.monotonic() - began:.0f} s"
    )
