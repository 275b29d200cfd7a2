"""The champion/challenger rule: a newly trained model replaces the champion only if its out-of-time
AUC beats the champion's, on the same window, by the policy's margin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    challenger_oot_auc: float
    champion_oot_auc: float | None
    margin: float

    def as_dict(self) -> dict:
        return asdict(self)


def decide_promotion(challenger_oot_auc: float, champion_oot_auc: float | None, margin: float) -> PromotionDecision:
    """The challenger replaces the champion only if it beats it on the same out-of-time window by `margin`."""
    if champion_oot_auc is None:
        return PromotionDecision(True, "no champion yet", challenger_oot_auc, None, margin)
    if np.isnan(challenger_oot_auc):
        return PromotionDecision(False, "challenger OOT AUC undefined", challenger_oot_auc, champion_oot_auc, margin)
    if np.isnan(champion_oot_auc) or challenger_oot_auc >= champion_oot_auc + margin:
        return PromotionDecision(
            True,
            f"challenger OOT AUC {challenger_oot_auc:.4f} >= champion {champion_oot_auc:.4f} + margin {margin}",
            challenger_oot_auc, champion_oot_auc, margin,
        )
    return PromotionDecision(
        False,
        f"challenger OOT AUC {challenger_oot_auc:.4f} < champion {champion_oot_auc:.4f} + margin {margin}: champion kept",
        challenger_oot_auc, champion_oot_auc, margin,
    )
