"""Finding notebooks, reading them, and what each cell asks of the build."""
