"""The `teei` command: the entry point over every room."""
