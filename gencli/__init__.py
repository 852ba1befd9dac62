"""gencli: a 2D point diffusion model and a small GPT, trained and analysed from the shell."""

__version__ = "0.1.0"
