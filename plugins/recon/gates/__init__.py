"""Great Expectations gates: landing audits (per file, from the source YAML) and the mart gate."""
