"""The 2D point diffusion model: variance-exploding SDE with a noise-predicting denoiser."""
