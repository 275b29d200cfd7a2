"""The champion/challenger rule with its margin."""

from __future__ import annotations

import pytest

from loan_pipeline.transforms.training.promotion import decide_promotion


@pytest.mark.parametrize(
    "challenger,champion,margin,promote",
    [(0.80, None, 0.01, True), (0.82, 0.80, 0.01, True), (0.805, 0.80, 0.01, False), (0.79, 0.80, 0.0, False), (0.80, 0.80, 0.0, True)],
)
def test_champion_challenger_rule_with_margin(challenger, champion, margin, promote):
    d = decide_promotion(challenger, champion, margin)
    assert d.promote is promote
    assert ("kept" in d.reason) is (not promote)
