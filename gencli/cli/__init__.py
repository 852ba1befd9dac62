"""The command-line layer: Typer apps, rich output, error handling."""
