"""The outbound path and who may do what: claim, preview, approvals, the outbox."""
