"""Risk instruments: declarative specs, the scoring engine, data rules, the bundled catalog."""
