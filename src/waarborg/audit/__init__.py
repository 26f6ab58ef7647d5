"""Audit engine: validity, fairness and selectivity metrics from a count cube."""
