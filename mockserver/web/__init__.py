"""The HTTP layer: one ordered pipeline for every request, over the framework-free core."""
