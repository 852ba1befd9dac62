"""Result objects of the diffusion analyses, one module per topic: numbers and numpy arrays, no torch.

Each answers one course question (U1-U6, C1-C7, the bonus); `gencli/plots` draws them and the CLI and the report
show their tables and findings.
"""

from gencli.diffusion.results.comparison import ObjectiveComparison
from gencli.diffusion.results.flow_likelihood import FlowProbabilityTable
from gencli.diffusion.results.gallery import Gallery, GalleryRow
from gencli.diffusion.results.guidance import GuidanceRow, GuidanceSweep
from gencli.diffusion.results.inversion import SamplerInversion
from gencli.diffusion.results.likelihood import DensityGrid, ProbabilityTable
from gencli.diffusion.results.paths import Determinism, ForwardPath, ReversePaths
from gencli.diffusion.results.samples import Samples, SeedPanel, SeedsGrid
from gencli.diffusion.results.sweeps import SamplingSweep, SigmaSchedules, SweepRow
from gencli.diffusion.results.training import TrainingCurve, TrainingData

__all__ = [
    "Gallery",
    "GalleryRow",
    "DensityGrid",
    "FlowProbabilityTable",
    "Determinism",
    "ForwardPath",
    "GuidanceRow",
    "GuidanceSweep",
    "ObjectiveComparison",
    "ProbabilityTable",
    "ReversePaths",
    "Samples",
    "SamplingSweep",
    "SeedPanel",
    "SeedsGrid",
    "SigmaSchedules",
    "SamplerInversion",
    "SweepRow",
    "TrainingCurve",
    "TrainingData",
]
