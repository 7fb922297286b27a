"""A contract-checked local mock of the PostHog and LaunchDarkly experiment APIs."""

__version__ = "0.1.0"
