"""A contract-checked local mock of the PostHog and LaunchDarkly experiment APIs."""

from mockserver.version import __version__

__all__ = ["MockServer", "__version__"]


def __getattr__(name: str):
    """``from mockserver import MockServer`` without paying for Flask at ``import mockserver``."""
    if name == "MockServer":
        from mockserver.server import MockServer

        return MockServer
    raise AttributeError(name)
