"""The scope objects PostHog knows (``posthog/scopes.py``, ``APIScopeObject``), so a key registered
with a typo (``experimnt:read``) is refused, as PostHog refuses it, instead of granting nothing.

The list is the union over PostHog's releases: a scope an older or newer PostHog accepts is
accepted here (``user_interview_DO_NOT_USE`` became ``user_interview``). Objects PostHog mints
only for its own tokens (``INTERNAL_API_SCOPE_OBJECTS``) are left out: no user can grant them.
"""

from __future__ import annotations

import difflib

ACTIONS = ("read", "write")

OBJECTS = frozenset(
    {
        "access_control",
        "account",
        "action",
        "activity_log",
        "ai_observability_clusters",
        "alert",
        "annotation",
        "approvals",
        "batch_export",
        "batch_import",
        "batch_import_support",
        "billing",
        "business_knowledge",
        "canvas",
        "chat_conversation",
        "cohort",
        "comment",
        "conversation",
        "customer_analytics",
        "customer_journey",
        "customer_profile_config",
        "customer_task",
        "dashboard",
        "dashboard_template",
        "data_catalog",
        "data_catalog_approval",
        "dataset",
        "desktop_recording",
        "early_access_feature",
        "element",
        "endpoint",
        "engineering_analytics",
        "error_tracking",
        "evaluation",
        "event_definition",
        "event_filter",
        "experiment",
        "experiment_holdout",
        "experiment_saved_metric",
        "export",
        "external_data_schema",
        "external_data_source",
        "feature_flag",
        "field_note",
        "file_system",
        "file_system_shortcut",
        "group",
        "health_issue",
        "heatmap",
        "hog_flow",
        "hog_function",
        "ingestion_warning",
        "insight",
        "insight_variable",
        "integration",
        "legal_document",
        "link",
        "live_debugger",
        "llm_analytics",
        "llm_gateway",
        "llm_playground",
        "llm_prompt",
        "llm_provider_key",
        "llm_skill",
        "logs",
        "loop",
        "marketing_analytics",
        "mcp_analytics",
        "metrics",
        "notebook",
        "organization",
        "organization_integration",
        "organization_member",
        "persisted_folder",
        "person",
        "plugin",
        "product_enablement",
        "product_tour",
        "project",
        "property_definition",
        "query",
        "query_performance",
        "replay_scanner",
        "revenue_analytics",
        "review_hog",
        "session_recording",
        "session_recording_playlist",
        "sharing_configuration",
        "signal_scout",
        "stamphog",
        "streamlit_app",
        "subscription",
        "survey",
        "tagger",
        "task",
        "ticket",
        "toolbar",
        "tracing",
        "uploaded_media",
        "usage_metric",
        "user",
        "user_interview",
        "user_interview_DO_NOT_USE",
        "vision_action",
        "vision_alert",
        "visual_review",
        "warehouse_objects",
        "warehouse_table",
        "warehouse_view",
        "web_analytics",
        "webhook",
        "wizard_session",
    }
)

ALL = frozenset(f"{obj}:{action}" for obj in OBJECTS for action in ACTIONS)


def problem(scope: str) -> str | None:
    """Why ``scope`` is not one PostHog grants, with the nearest real one; None when it is."""
    if scope == "*" or scope in ALL:
        return None
    obj, _, action = scope.partition(":")
    if obj in OBJECTS:
        return f"{scope!r} is not a scope: the action must be 'read' or 'write', e.g. '{obj}:read'"
    guess = difflib.get_close_matches(obj, OBJECTS, n=1, cutoff=0.75)
    hint = f"; did you mean '{guess[0]}:{action if action in ACTIONS else 'read'}'?" if guess else ""
    return (
        f"{scope!r} is not a scope: '*' or '<object>:read' / '<object>:write' with an object "
        f"PostHog knows, e.g. 'experiment:read'{hint}"
    )
