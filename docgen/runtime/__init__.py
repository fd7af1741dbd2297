"""What runs inside a notebook's kernel (`show_doc`, `doc`); imports nothing from the build side."""
