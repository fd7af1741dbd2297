"""The `docgen` command: one module per subcommand; `main` dispatches."""
