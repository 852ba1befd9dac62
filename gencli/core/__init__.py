"""The small modules every layer shares: typed configs, errors, result objects, atomic files, devices, lazy imports."""
