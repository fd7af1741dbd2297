"""The symbol index: the project's API by introspection, external indexes, name resolution."""
