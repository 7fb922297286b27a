"""A contract-checked local mock of the PostHog and LaunchDarkly experiment APIs."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``from mockserver import MockServer`` without paying for Flask at ``import mockserver``."""
    if name == "MockServer":
        from mockserver.server import MockServer

        return MockServer
    raise AttributeError(name)
