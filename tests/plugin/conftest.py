"""Vendors are discovered once, here, before any inline pytester run: an inline run forgets the
modules it imported, and the registry's cached plugins would then hold modules a test's
monkeypatching can no longer reach."""

from mockserver.core.registry import discover

discover()
