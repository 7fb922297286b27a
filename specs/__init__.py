"""The bundled OpenAPI specs, shipped as package data (a regular package so importlib.resources gives a real path)."""
