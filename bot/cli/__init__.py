"""The `earshot` command."""
