"""The query engine of insights: shapes (shapes.py), one module per kind, in SQL over the
partitioned event table. docs/apps/analytics.md describes the query JSON."""
