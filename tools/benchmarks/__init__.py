"""The subcommands of tools/benchmark.py, by concern."""
