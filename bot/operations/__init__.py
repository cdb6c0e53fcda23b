"""Care operations: SLA clocks, assignment, health, stats, reports, the audit log."""
