"""Earshot: social customer care from Slack."""
