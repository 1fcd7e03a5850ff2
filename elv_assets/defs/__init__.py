"""Dagster definitions: one module per layer or concern."""
