"""Flag statuses: new, active, inactive or launched, from when SDKs last asked for the flag.

LaunchDarkly's definitions: ``new`` was created under seven days ago and never requested;
``inactive`` is older and not requested in the last seven days; ``launched`` is requested, on,
serving one variation and unchanged for seven days; anything else requested is ``active`` (a
running experiment serves several variations, so its flag is active).
Evaluations are kept per environment in the flag's ``_requests`` record (seeded), and a running
experiment on the flag means its SDKs are asking for it now.
"""

from __future__ import annotations

from typing import Any

from mockserver.vendors.launchdarkly import flag_dependents

WEEK_MS = 7 * 24 * 3600 * 1000


def _serves_one_variation(config: dict[str, Any]) -> bool:
    served = set()
    for serve in [config.get("fallthrough") or {}, *config.get("rules", [])]:
        if serve.get("rollout"):
            served.update(w["variation"] for w in serve["rollout"].get("variations", []) if w.get("weight"))
        elif serve.get("variation") is not None:
            served.add(serve["variation"])
    for field in ("targets", "contextTargets"):
        served.update(t["variation"] for t in config.get(field, []) if t.get("values"))
    return len(served) == 1


# (flag key, environment key) pairs that a running experiment iteration is on, in one project
Running = set[tuple[str, str]]


def running(state: dict[str, Any], project_key: str) -> Running:
    """Every flag a running experiment is on, per environment: one pass for the statuses of many flags."""
    return {
        (flag_key, exp["environmentKey"])
        for exp, it in flag_dependents.live_iterations(state, project_key, None)
        if it["status"] == "running"
        for flag_key in it["flags"]
    }


def _experimenting(state: dict[str, Any], row: dict[str, Any], env_key: str, found: Running | None) -> bool:
    if found is not None:
        return (row["key"], env_key) in found
    return any(
        exp["environmentKey"] == env_key and it["status"] == "running"
        for exp, it in flag_dependents.live_iterations(state, row["projectKey"], row["key"])
    )


def last_requested(
    state: dict[str, Any], row: dict[str, Any], env_key: str, now_ms: int, found: Running | None = None
) -> int | None:
    if _experimenting(state, row, env_key, found):
        return now_ms
    return (row["environments"][env_key].get("_requests") or {}).get("last")


def of(
    state: dict[str, Any], row: dict[str, Any], env_key: str, now_ms: int, found: Running | None = None
) -> dict[str, Any]:
    """The status of one flag in one environment: name, lastRequested (epoch ms) and the code default.

    ``found`` is ``running(state, project)`` computed once when many flags are asked about.
    """
    config = row["environments"][env_key]
    last = last_requested(state, row, env_key, now_ms, found)
    out: dict[str, Any] = {"lastRequested": last}
    requests = config.get("_requests") or {}
    if "default" in requests:
        out["default"] = requests["default"]
    if last is None:
        out["name"] = "new" if now_ms - row["creationDate"] < WEEK_MS else "inactive"
    elif now_ms - last > WEEK_MS:
        out["name"] = "inactive"
    elif (
        config["on"]
        and _serves_one_variation(config)
        and now_ms - config["lastModified"] >= WEEK_MS
        and not _experimenting(state, row, env_key, found)
    ):
        out["name"] = "launched"
    else:
        out["name"] = "active"
    return out
