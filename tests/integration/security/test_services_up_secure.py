"""`mira services up --secure` for local use: the printed settings work, no password printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.security.conftest import run_mira

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODELS = Path(__file__).resolve().parents[1] / "services" / "models"


def _exports(text: str) -> dict[str, str]:
    lines = [ln.removeprefix("export ") for ln in text.splitlines() if ln.startswith("export ")]
    return dict(ln.split("=", 1) for ln in lines)


def test_up_secure_then_produce_with_the_printed_settings(tmp_path: Path) -> None:
    state = {"MIRA_SERVICES_STATE": str(tmp_path / "services" / "state.json")}
    up = run_mira(
        ["services", "up", "--secure", "--no-prometheus", "--triton-repo", str(MODELS)],
        state,
        timeout_s=180,
    )
    try:
        assert up.code == 0, up.out
        exports = _exports(up.out)
        password = Path(exports["MIRA_KAFKA_SASL_PASSWORD_FILE"]).read_text()
        assert exports["MIRA_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert exports["MIRA_TRITON_SSL"] == "true" and "MIRA_TRITON_SSL_CERT" in exports
        docs = tmp_path / "docs.jsonl"
        docs.write_text(
            "".join(
                json.dumps({"id": f"d{i}", "source": "s", "text": "t"}) + "\n" for i in range(20)
            )
        )
        sent = run_mira(["produce", str(docs), "--json"], {**state, **exports})
        status = run_mira(["services", "status"], state)
        print(f"\nservices up --secure in {up.seconds:.1f} s; produce as mira: {sent.out.strip()}")
        assert sent.code == 0 and json.loads(sent.out.strip().splitlines()[-1])["sent"] == 20
        assert status.code == 0
        for text in (up.out, sent.out, status.out):
            assert password not in text
    finally:
        down = run_mira(["services", "down"], state)
        assert down.code == 0, down.out
