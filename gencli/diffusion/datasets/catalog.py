"""The built-in 2D sets by name, without importing torch (the command line's help and the config read it).

Adding a set: a module in this package with a `Dataset` subclass, and one line here.
"""

from __future__ import annotations

# name -> (module, class, what it is)
BUILTIN: dict[str, tuple[str, str, str]] = {
    "square": ("square", "Square", "the exercise's: uniform in [-1, 1]^2, classes the cells of a 3x3 grid"),
    "checkerboard": ("checkerboard", "Checkerboard", "uniform on the 8 dark cells of a 4x4 board, a class per cell"),
    "gaussians": ("mixture", "GaussianMixture", "8 Gaussians (std 0.2) on a circle of radius 2, a class each"),
    "ring": ("ring", "Ring", "a circle of radius 1 blurred by std 0.1, classes 6 sectors"),
    "moons": ("curves", "Moons", "two interleaving half circles blurred by std 0.1, a class per moon"),
    "spirals": ("curves", "Spirals", "two spiral arms blurred by std 0.05, a class per arm"),
}
DEFAULT = "square"


def names() -> str:
    """'square, checkerboard, ...' for help texts."""
    return ", ".join(BUILTIN)


def is_builtin(name: str) -> bool:
    return name in BUILTIN
