"""Quality of samples: against the data of any set (histogram TV with its noise floor, k-NN precision and recall,
the true density where known; measure.py), class fidelity (regions.py), and the square's own figures (square.py)."""
