"""Highlight mining: candidates with clean cuts, explained scores, spread-out selection."""

from pipeline.highlights.energy import EnergyEnvelope, envelope_from_file, envelope_from_samples
from pipeline.highlights.mine import MiningResult, mine_highlights
from pipeline.highlights.options import PLATFORM_BOUNDS, FeatureWeights, HighlightOptions
from pipeline.highlights.select import Highlight

__all__ = [
    "EnergyEnvelope", "FeatureWeights", "Highlight", "HighlightOptions", "MiningResult", "PLATFORM_BOUNDS",
    "envelope_from_file", "envelope_from_samples", "mine_highlights",
]
