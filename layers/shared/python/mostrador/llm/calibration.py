"""How similar is similar, per embedding model: one calibration for every search that compares vectors.

Cosine similarity scales differ a lot between models (multilingual-e5 puts unrelated texts near 0.8,
OpenAI's text-embedding-3 near 0.1-0.3), so a fixed threshold means nothing across models. Each model
has a `floor` (below it a text is not what was asked for) and a `sure` point (at it, it certainly is).
Product search (catalog/search.py) and knowledge search (knowledge/relevance.py) both read them here,
so a deployment calibrates its model once: SEARCH_MIN_SIMILARITY moves the floor of both
(docs/search.md, "Calibration of other embedding models"; docs/knowledge.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIN_SIMILARITY_ENV = "SEARCH_MIN_SIMILARITY"


@dataclass(frozen=True)
class VectorCalibration:
    """Cosine similarities of one embedding model: below `floor` a text is not the thing asked for;
    at `sure` it certainly is."""

    floor: float
    sure: float

    def meaning(self, similarity: float) -> float:
        """0 at the floor (and below), rising linearly to 1 at the `sure` point."""
        if similarity < self.floor:
            return 0.0
        return min(1.0, (similarity - self.floor) / (self.sure - self.floor))


# multilingual-e5-small is calibrated on the product evaluation's tune split (eval/tune_search.py prints
# the similarity profile). The others are starting points from those models' usual scales, NOT measured
# here (no network): check them on a real key before trusting them (docs/search.md, "Calibration").
CALIBRATIONS: dict[str, VectorCalibration] = {
    "multilingual-e5-small": VectorCalibration(0.86, 0.94),
    "text-embedding-3-small": VectorCalibration(0.40, 0.65),
    "text-embedding-3-large": VectorCalibration(0.40, 0.65),
    "gemini-embedding-001": VectorCalibration(0.62, 0.80),
}
DEFAULT_CALIBRATION = VectorCalibration(0.45, 0.70)


def calibration_for(model: str | None) -> VectorCalibration:
    """The model's calibration; SEARCH_MIN_SIMILARITY moves its floor (and its `sure` point with it)."""
    base = next((c for name, c in CALIBRATIONS.items() if model and model.startswith(name)), DEFAULT_CALIBRATION)
    override = os.environ.get(MIN_SIMILARITY_ENV, "").strip()
    if override:
        floor = float(override)
        return VectorCalibration(floor, max(base.sure - base.floor + floor, floor + 0.05))
    return base
