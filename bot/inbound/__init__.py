"""The inbound path: poll, store, triage, route, suggest, card; storms and volume alerts."""
