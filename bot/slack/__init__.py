"""Slack: the board (cards through slack-sdk), delivery at Slack's pace, the HTTP server, checks."""
