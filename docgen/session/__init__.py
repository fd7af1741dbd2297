"""What one build leaves for the next to reuse: the build session (see session.py)."""
