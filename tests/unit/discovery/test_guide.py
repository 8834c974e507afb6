"""The guided-decoding automaton (token ids only, no model)."""

from __future__ import annotations

import json

from discovery.teacher.guide import Digit, GuideState, Lit, Text, proposal_guide, score_guide


def test_score_guide_renders_valid_json_skeleton() -> None:
    segs = score_guide(["a", "b"], 0, 5, 4)
    filled = "".join(s.text if isinstance(s, Lit) else "3" if isinstance(s, Digit) else "why"
                     for s in segs)
    assert json.loads(filled) == {"scores": [{"anchor": "a", "rationale": "why", "score": 3},
                                             {"anchor": "b", "rationale": "why", "score": 3}]}


def test_proposal_guide_has_n_entries() -> None:
    segs = proposal_guide(2, 4, 8)
    filled = "".join(s.text if isinstance(s, Lit) else "xyz" for s in segs)
    assert len(json.loads(filled)["dimensions"]) == 2
    assert sum(isinstance(s, Text) for s in segs) == 8


def test_state_machine() -> None:
    # compiled: lit [1, 2] (prefix, skipped) | text max 2 min 1 | lit [9, 10] | digit [20..22] |
    # lit [30]
    segs = [("lit", [1, 2]), ("text", 2, 1), ("lit", [9, 10]), ("digit", [20, 21, 22]),
            ("lit", [30])]
    st = GuideState(segs, start=1)
    assert st.allowed() == ("text", (9, False))  # must write at least one token
    st.advance(500)
    assert st.allowed() == ("text", (9, True))
    st.advance(9)  # the model chose to end the string: literal continues at its 2nd token
    assert st.allowed() == ("ids", [10])
    st.advance(10)
    assert st.allowed() == ("ids", [20, 21, 22])
    st.advance(21)
    assert st.allowed() == ("ids", [30])
    st.advance(30)
    assert st.done


def test_text_budget_forces_the_end() -> None:
    segs = [("lit", [1]), ("text", 1, 1), ("lit", [7])]
    st = GuideState(segs, start=1)
    st.advance(400)
    assert st.allowed() == ("ids", [7])
