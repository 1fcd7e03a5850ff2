"""Pandera contracts: the single source of column names, types and rules."""

from elv_assets.contracts.inputs import INPUT_FILES, InputFile, column_specs
from elv_assets.contracts.tables import SILVER_MODELS

__all__ = ["INPUT_FILES", "SILVER_MODELS", "InputFile", "column_specs"]
