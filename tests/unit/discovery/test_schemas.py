"""Request schemas narrow the answer contracts: what they accept, the contracts accept too."""

from __future__ import annotations

import jsonschema
import pytest

from discovery.teacher.prompts import proposal_prompt, score_prompt
from discovery.teacher.schemas import proposal_schema, score_schema
from mira.contracts import Anchor, ProposalAnswer, ScoreAnswer

DIM = {
    "name": "test_coverage",
    "description": "How much of the code the tests exercise.",
    "high": "Tests for every branch.",
    "low": "No tests at all.",
}


def test_proposal_schema_accepts_a_real_answer_that_the_contract_accepts() -> None:
    answer = {"dimensions": [DIM, DIM | {"name": "clarity"}]}
    jsonschema.validate(answer, proposal_schema(2, 48))
    ProposalAnswer.model_validate(answer)


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "low_4"},
        {"name": "Clarity"},
        {"name": "a"},
        {"description": 'x", "high": "y'},
        {"high": '{"description": 1}'},
        {"low": "1.0.0.0"},
        {"description": "short"},
    ],
)
def test_proposal_schema_rejects_junk(bad: dict[str, str]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"dimensions": [DIM | bad, DIM]}, proposal_schema(2, 48))


def test_score_schema_fixes_anchors_order_and_range() -> None:
    schema = score_schema(["clarity", "correctness"], 32)
    good = {
        "scores": [
            {"anchor": "clarity", "rationale": "clear names", "score": 4},
            {"anchor": "correctness", "rationale": "no bugs seen", "score": 5},
        ]
    }
    jsonschema.validate(good, schema)
    ScoreAnswer.model_validate(good)
    for bad in (
        good["scores"][::-1],
        good["scores"][:1],
        [good["scores"][0], good["scores"][1] | {"score": 6}],
        [good["scores"][0], good["scores"][1] | {"rationale": "x" * 40}],
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"scores": bad}, schema)


def test_prompts_carry_their_schema_and_put_the_document_last() -> None:
    anchors = [Anchor(name="clarity", description="how clear")]
    p = score_prompt("src", "the text", anchors, rationale_tokens=8)
    assert p.schema == score_schema(["clarity"], 32)
    assert p.json_schema(ScoreAnswer) is p.schema
    assert p.messages[-1]["content"].endswith("<document>\nthe text\n</document>")
    q = proposal_prompt("src", "the text", 3, text_tokens=12)
    assert q.schema is not None and q.schema["properties"]["dimensions"]["maxItems"] == 3
