"""Block Kit builders: every card, modal and message Earshot shows in Slack. Pure."""
