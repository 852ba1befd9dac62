"""Figures: numpy arrays in, PNG files out (Agg backend, no torch)."""
