"""Subcommands of the shopassist CLI, one module each."""
