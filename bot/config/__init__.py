"""Settings: one TOML file, validated in one place (every problem at once)."""
