"""Every course question about the diffusion model as a function: loaded model and options in, result out.

    training    C1 training_data (draw_data: a set without a model), U2 training_curve
    sampling    C4/C5 sample_quality, U3 seeds_grid, U4/U5 sampler_sweep and sigma_schedules, sampling_study
    paths       U1 forward_path, U6/C3 reverse_paths, U6 determinism
    likelihood  C6 probability_table and exact_density_grid
    guidance    C7 guidance_sweep
    inversion   the bonus, invert_to_target
    gallery     other distributions: every built-in set's model measured alike
    comparison  diffusion or flow: models of one set at equal network evaluations

None of them prints or writes a file; randomness comes from explicit seeds.
"""

from gencli.diffusion.analyses.common import class_labels
from gencli.diffusion.analyses.comparison import comparison_size, objective_comparison, path_straightness
from gencli.diffusion.analyses.gallery import distribution_gallery
from gencli.diffusion.analyses.guidance import guidance_sweep
from gencli.diffusion.analyses.inversion import invert_to_target
from gencli.diffusion.analyses.likelihood import (
    check_queries,
    data_log_likelihood,
    default_queries,
    exact_density_grid,
    probability_table,
    training_data_prior,
)
from gencli.diffusion.analyses.paths import determinism, forward_path, reverse_paths
from gencli.diffusion.analyses.sampling import (
    sample_quality,
    sampler_sweep,
    sampling_study,
    seeds_grid,
    sigma_schedules,
)
from gencli.diffusion.analyses.training import draw_data, training_curve, training_data

__all__ = [
    "check_queries",
    "class_labels",
    "comparison_size",
    "objective_comparison",
    "path_straightness",
    "data_log_likelihood",
    "default_queries",
    "draw_data",
    "determinism",
    "distribution_gallery",
    "exact_density_grid",
    "forward_path",
    "guidance_sweep",
    "probability_table",
    "reverse_paths",
    "sample_quality",
    "sampler_sweep",
    "sampling_study",
    "seeds_grid",
    "sigma_schedules",
    "invert_to_target",
    "training_curve",
    "training_data",
    "training_data_prior",
]
