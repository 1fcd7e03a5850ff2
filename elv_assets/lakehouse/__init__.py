"""Plain lakehouse logic, no Dagster: reading and typing CSVs, validation, silver rules, attribution, gold SQL,
data quality, the warehouse helpers and the serving snapshot."""
