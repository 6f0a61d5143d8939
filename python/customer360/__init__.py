"""customer360: one persistent customer ID per person, on dbt + DuckDB."""

__version__ = "0.1.0"
