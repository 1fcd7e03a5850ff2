"""The demo worlds: shared ad economics and mess (`common`), and one lead law per world (`simple`, `v2`)."""
