"""The extractive reader: training data, network, training loop and export (torch)."""
