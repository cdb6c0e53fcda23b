"""Pure decisions: triage, routing, suggestions, voice, playbooks, SLA targets."""
