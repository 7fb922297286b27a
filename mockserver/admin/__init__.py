"""The control API (/__admin): one table maps each operation of specs/admin.yaml to one handler.

Handlers are the same ``(call) -> Reply`` functions as the vendors' and walk the same pipeline
(contract check, transaction, response check); vendors add their own under /__admin/<vendor>/.
"""

from __future__ import annotations

from mockserver.admin import clock, faults, journal, server, settings, state
from mockserver.console import handlers as console

HANDLERS = {
    **server.HANDLERS,
    **state.HANDLERS,
    **journal.HANDLERS,
    **faults.HANDLERS,
    **clock.HANDLERS,
    **settings.HANDLERS,
    **console.HANDLERS,
}
# Operations that skip the contract check: what orchestrators poll during start-up must not wait
# for the first schema compile (~0.2 s of imports). Its shape is checked by the test suite.
UNCHECKED = frozenset({"health"})
# Operations that replace the world: they first wait for the vendor requests still in progress
# (a client that timed out leaves one running), so no old request writes into the new world.
SETTLES = frozenset({"reset", "putState", "loadFixture"})
# Operations any caller may use, token or not: Docker's HEALTHCHECK has no token, and a browser
# must load the console before it can ask for one.
OPEN = frozenset({"health"}) | console.OPEN
# With --admin-api off only health stays (orchestrators poll it); the console and docs go too,
# since every call they make would be a 404.
WITHOUT_ADMIN_API = frozenset({"health"})
