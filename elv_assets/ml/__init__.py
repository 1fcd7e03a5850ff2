"""Machine-learning pieces of the ELV platform, e.g. held-out evaluation metrics and feature drift.

Plain numpy/pandas/scikit-learn modules (no Dagster), so assets, the CLI and notebooks can share them.
"""
