"""Vendors are discovered once, here, before any inline pytester run: an inline run forgets the
modules it imported, and the registry's cached plugins would then hold modules a test's
monkeypatching can no longer reach.

httpcore is loaded here too, for the same reason: httpx imports it only when a client opens its
first connection, and caches httpcore's exception classes on that first request. Imported first
inside an inline run (while httpx stays loaded from a test module), httpcore is forgotten after it,
and every later run raises a new httpcore whose errors that cache no longer maps to httpx's: a
refused connection escapes as a raw ``httpcore.ConnectError`` instead of ``httpx.ConnectError``."""

import httpcore  # noqa: F401

from mockserver.core.registry import discover

discover()
