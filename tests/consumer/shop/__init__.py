"""A small app that manages its experiments through PostHog and LaunchDarkly's REST APIs."""
