"""Bundled reply templates. The ``*.toml`` files here are data; this file only ships them."""
