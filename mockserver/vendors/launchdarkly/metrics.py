"""Metrics: create, list, read, JSON-patch and delete, with LaunchDarkly's rules per kind.

* ``custom`` needs ``eventKey`` and ``isNumeric``; a numeric one needs ``successCriteria``.
* ``pageview`` needs ``urls``; ``click`` needs ``urls`` and a CSS ``selector``; both track conversions.
* ``trace`` needs ``traceQuery``, and ``traceValueLocation`` when numeric.
* ``count_distinct`` aggregation needs ``unitAggregationField``; ``percentile`` analysis needs
  ``percentileValue``. Analysis units must be context kinds of the project.

A metric a running experiment measures cannot be deleted, nor one a metric group holds. A metric
that stopped or draft experiments used is deleted for the API (404) but kept for those experiments,
which still show the definition they measured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mockserver.core.clock import iso
from mockserver.core.contract import shared_contract
from mockserver.core.store import clone, next_uuid
from mockserver.vendors.launchdarkly import context_kinds, filters, iterations, patching
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import already_exists, conflict, invalid, not_found

KINDS = ("pageview", "click", "custom", "trace")
SUCCESS = ("HigherThanBaseline", "LowerThanBaseline")
AGGREGATIONS = ("average", "sum", "count_distinct")
ANALYSES = ("mean", "percentile")
URL_KINDS = {"exact": "url", "canonical": "url", "substring": "substring", "regex": "pattern"}
DATA_SOURCE = {"key": "launchdarkly", "_name": "LaunchDarkly"}
# Fields a patch may change: everything but the key, the kind and what the server keeps.
KEPT_VERSIONS = 50  # older versions of a metric that GET ?versionId= can still read
EDITABLE = (
    "name",
    "description",
    "tags",
    "maintainerId",
    "isNumeric",
    "successCriteria",
    "unit",
    "eventKey",
    "selector",
    "urls",
    "randomizationUnits",
    "analysisUnits",
    "unitAggregationType",
    "unitAggregationField",
    "analysisType",
    "percentileValue",
    "eventDefault",
    "filters",
    "windowStartOffset",
    "windowEndOffset",
    "winsorLowerPercentile",
    "winsorUpperPercentile",
    "winsorIncludeImputed",
    "traceQuery",
    "traceValueLocation",
    "category",
)
COPIED = (*EDITABLE, "winsorExcludeImputed", "denominator")
LIST_EXPANDS = ("experimentCount",)
ONE_EXPANDS = (
    "experiments",
    "experimentCount",
    "metricGroups",
    "metricGroupCount",
    "eventSources",
    "guardedRollouts",
    "guardedRolloutCount",
    "lastUsedInExperiment",
    "lastUsedInGuardedRollout",
)
FILTERS = {
    "dataSourceKeys": ("anyOf", "notEquals"),
    "eventKeys": ("anyOf",),
    "eventKind": ("equals",),
    "hasConnections": ("equals",),
    "isNumeric": ("equals",),
    "maintainerIds": ("anyOf",),
    "maintainerTeamKey": ("equals",),
    "metricUsedIn": ("equals",),
    "query": ("equals",),
    "tags": ("contains",),
    "unitAggregationType": ("equals",),
    "versionIds": ("anyOf",),
    "view": ("equals",),
}
SORTS = ("createdAt", "-createdAt", "name", "-name")


# -- rules --------------------------------------------------------------------------------------


def _check(state: dict[str, Any], project_key: str, row: dict[str, Any]) -> None:
    """LaunchDarkly's per-kind requirements; the message names the field to add or fix."""
    kind = row["kind"]
    if not isinstance(row.get("name"), str) or not row["name"].strip():
        raise invalid("name may not be empty")
    if kind in ("click", "pageview"):
        if not row.get("urls"):
            raise invalid(f"A {kind} metric needs urls: the pages it watches, e.g. [{{'kind': 'exact', 'url': ...}}]")
        if row.get("isNumeric"):
            raise invalid(f"A {kind} metric tracks conversions; isNumeric must be false")
    if kind == "click" and not (isinstance(row.get("selector"), str) and row["selector"].strip()):
        raise invalid("A click metric needs selector: the CSS selector of the element to watch")
    if kind in ("custom", "trace") and not isinstance(row.get("isNumeric"), bool):
        raise invalid(f"A {kind} metric needs isNumeric: true to measure a value, false to count conversions")
    if kind == "custom" and not (isinstance(row.get("eventKey"), str) and row["eventKey"].strip()):
        raise invalid("A custom metric needs eventKey: the event key your code sends with track()")
    if kind == "trace":
        if not row.get("traceQuery"):
            raise invalid("A trace metric needs traceQuery")
        if row.get("isNumeric") and not row.get("traceValueLocation"):
            raise invalid("A numeric trace metric needs traceValueLocation")
    if kind in ("custom", "trace") and row.get("isNumeric") and row.get("successCriteria") is None:
        raise invalid(f"A numeric {kind} metric needs successCriteria: HigherThanBaseline or LowerThanBaseline")
    if row.get("successCriteria") is not None and row["successCriteria"] not in SUCCESS:
        raise invalid(f"successCriteria must be one of {', '.join(SUCCESS)}")
    _check_urls(row.get("urls"))
    _check_analysis(row)
    default = row.get("eventDefault")
    if default is not None:
        if not isinstance(default, dict):
            raise invalid("eventDefault must be an object {disabled, value}")
        if not default.get("disabled") and default.get("value", 0) != 0:
            raise invalid("eventDefault.value may only be 0: missing unit events default to zero")
    units = row.get("analysisUnits", [])
    if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
        raise invalid("analysisUnits must be a list of context kind keys")
    context_kinds.check_units(state, project_key, units, "analysisUnits entry")
    if not isinstance(row.get("tags"), list) or not all(isinstance(t, str) for t in row["tags"]):
        raise invalid("tags must be a list of strings")
    maintainer = row.get("maintainerId")
    if maintainer is not None and m.member(state, maintainer) is None:
        raise invalid(f"maintainerId '{maintainer}' is not a member of this account")


def _check_urls(urls: Any) -> None:
    if urls is None:
        return
    if not isinstance(urls, list):
        raise invalid("urls must be a list of URL matchers")
    for index, matcher in enumerate(urls):
        kind = matcher.get("kind") if isinstance(matcher, dict) else None
        if kind not in URL_KINDS:
            raise invalid(f"urls[{index}].kind must be one of {', '.join(URL_KINDS)}")
        field = URL_KINDS[kind]
        if not (isinstance(matcher.get(field), str) and matcher[field]):
            raise invalid(f"urls[{index}]: a {kind} matcher needs {field}")
        if kind == "regex":
            try:
                re.compile(matcher["pattern"])
            except (re.error, OverflowError, RecursionError) as exc:  # a{4294967296}, "(" * 1000 + ")" * 1000
                raise invalid(f"urls[{index}].pattern is not a valid regular expression: {exc}") from None


def _check_analysis(row: dict[str, Any]) -> None:
    aggregation = row.get("unitAggregationType")
    if aggregation is not None and aggregation not in AGGREGATIONS:
        raise invalid(f"unitAggregationType must be one of {', '.join(AGGREGATIONS)}")
    if aggregation == "count_distinct" and not row.get("unitAggregationField"):
        raise invalid("unitAggregationType count_distinct needs unitAggregationField: the column to count")
    analysis = row.get("analysisType")
    if analysis is not None and analysis not in ANALYSES:
        raise invalid(f"analysisType must be one of {', '.join(ANALYSES)}")
    if analysis == "percentile":
        value = row.get("percentileValue")
        if type(value) is not int or not 0 < value < 100:
            raise invalid("analysisType percentile needs percentileValue: an integer between 0 and 100")
    lower, upper = row.get("winsorLowerPercentile"), row.get("winsorUpperPercentile")
    for name, value in (("winsorLowerPercentile", lower), ("winsorUpperPercentile", upper)):
        if value is not None and not 0 < value < 100:
            raise invalid(f"{name} must lie strictly between 0 and 100")
    if lower is not None and upper is not None and upper <= lower:
        raise invalid("winsorUpperPercentile must be greater than winsorLowerPercentile")


# -- create, patch, delete ----------------------------------------------------------------------


def create(state: dict[str, Any], project_key: str, body: dict[str, Any], member_id: str, now_ms: int) -> dict:
    m.project(state, project_key)
    key = body["key"]
    if not m.KEY.match(key):
        raise invalid(f"Invalid metric key '{key}'; use letters, digits, '.', '_' and '-'")
    if m.live(state, "metrics", project_key, key) is not None:
        raise already_exists(f"A metric with key '{key}' already exists in project '{project_key}'")
    row: dict[str, Any] = {k: body[k] for k in COPIED if body.get(k) is not None}
    units = body.get("analysisUnits") or body.get("randomizationUnits") or ["user"]
    row.update(
        _id=m.hex_id(state),
        _versionId=next_uuid(state),
        _version=1,
        key=key,
        name=body.get("name") or key,
        kind=body["kind"],
        tags=list(dict.fromkeys(body.get("tags") or [])),
        isNumeric=bool(body.get("isNumeric", False)),
        analysisUnits=list(units),
        randomizationUnits=list(units),
        maintainerId=body.get("maintainerId") or member_id,
        dataSource=dict(body.get("dataSource") or DATA_SOURCE),
        _creationDate=now_ms,
        lastModified=now_ms,
    )
    if row["kind"] in ("custom", "trace") and "isNumeric" not in body:
        row.pop("isNumeric")  # _check asks for it
    if row.get("isNumeric") and row.get("analysisType") is None:
        row["analysisType"] = "mean"
    if row.get("isNumeric") and row.get("unitAggregationType") is None:
        row["unitAggregationType"] = "average"
    _check(state, project_key, row)
    _check_shape(state, project_key, row)
    state["metrics"][m.scoped(project_key, key)] = row
    return row


def _check_shape(state: dict[str, Any], project_key: str, row: dict[str, Any]) -> None:
    """The rules above cover what the mock reads; the contract covers the rest (filters, denominators…).

    A metric the API could not describe (a filter type the representation does not allow…) is refused
    before anything is stored.
    """
    problems = shared_contract("launchdarkly").response_problems(
        "getMetric", 200, "application/json", rep(state, project_key, row)
    )
    if problems:
        raise invalid(f"The metric is not a valid metric: {problems[0]}")


def patch(state: dict[str, Any], project_key: str, row: dict[str, Any], body: Any, now_ms: int) -> dict[str, Any]:
    """A new version of the metric; a failed ``test`` is a 409, as LaunchDarkly documents for this route."""
    current = {k: v for k, v in row.items() if not k.startswith("_") or k in ("_version", "_versionId")}
    current.setdefault("description", "")
    current.setdefault("analysisUnits", list(current.get("randomizationUnits", [])))
    patched = patching.apply(current, body, EDITABLE, "metric", conflict)
    for fixed in ("key", "kind"):
        if patched.get(fixed) != row[fixed]:
            raise invalid(f"A metric's {fixed} cannot change; create a new metric instead")
    if "randomizationUnits" in patched and patched.get("randomizationUnits") != current.get("randomizationUnits"):
        patched["analysisUnits"] = patched["randomizationUnits"]
    if not isinstance(patched.get("analysisUnits", []), list):
        raise invalid("analysisUnits must be a list of context kind keys")
    patched["randomizationUnits"] = list(patched.get("analysisUnits", []))
    _check(state, project_key, patched)
    _check_shape(state, project_key, {**row, **{k: v for k, v in patched.items() if k in EDITABLE}})
    history = [*row.get("_history", []), _snapshot(row)][-KEPT_VERSIONS:]
    for key in list(row):
        if key in EDITABLE and key not in patched:
            row.pop(key)
    row.update({k: v for k, v in patched.items() if k in EDITABLE or k == "randomizationUnits"})
    row.update(_version=row.get("_version", 1) + 1, _versionId=next_uuid(state), lastModified=now_ms)
    row["_history"] = history
    return row


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    """What a version of a metric is: its editable fields, version and modification time."""
    kept = (*EDITABLE, "_version", "_versionId", "lastModified")
    return {k: clone(row[k]) for k in kept if k in row}


# (metric or group key, is a group) -> the experiments measuring it, in ``uses`` order, for one project
Uses = dict[tuple[str, bool], list[dict[str, Any]]]


def uses(
    state: dict[str, Any], project_key: str, key: str, is_group: bool = False, index: Uses | None = None
) -> Iterator[dict[str, Any]]:
    """Experiments (and holdouts' base experiments) of the project whose iterations measure ``key``.

    ``index`` is ``uses_index(state, project_key)``, built once when many metrics are rendered.
    """
    if index is not None:
        yield from index.get((key, is_group), ())
        return
    bases = [h["base"] for h in m.table(state, "holdouts").values() if h["projectKey"] == project_key]
    for exp in [*state["experiments"].values(), *bases]:
        if exp["projectKey"] != project_key:
            continue
        if any(e["key"] == key and e["isGroup"] == is_group for it in exp["iterations"] for e in it["metrics"]):
            yield exp


def uses_index(state: dict[str, Any], project_key: str) -> Uses:
    """What ``uses`` answers for every metric and group of the project, from one pass over the experiments."""
    out: Uses = {}
    bases = [h["base"] for h in m.table(state, "holdouts").values() if h["projectKey"] == project_key]
    for exp in [*state["experiments"].values(), *bases]:
        if exp["projectKey"] != project_key:
            continue
        measured = {(e["key"], e["isGroup"]) for it in exp["iterations"] for e in it["metrics"]}
        for found in measured:
            out.setdefault(found, []).append(exp)
    return out


def running(exp: dict[str, Any]) -> bool:
    current = iterations.current_of(exp)
    return current is not None and current["status"] == "running"


def groups_holding(state: dict[str, Any], project_key: str, key: str) -> list[dict[str, Any]]:
    return [
        g
        for k, g in state["metric_groups"].items()
        if k.startswith(f"{project_key}/") and not g.get("_deleted") and any(i["key"] == key for i in g["metrics"])
    ]


def delete(state: dict[str, Any], project_key: str, key: str) -> None:
    row = m.metric(state, project_key, key)
    users = list(uses(state, project_key, key))
    holdout_bases = {id(h["base"]) for h in m.table(state, "holdouts").values() if h["projectKey"] == project_key}
    live = sorted(e["key"] for e in users if running(e) and id(e) not in holdout_bases)
    held = sorted(e["key"] for e in users if running(e) and id(e) in holdout_bases)
    if live or held:
        named = [f"running experiment(s) {', '.join(live)} (stop them with stopIteration)"] if live else []
        named += [f"running holdout(s) {', '.join(held)} (end them with endHoldout)"] if held else []
        raise invalid(f"Metric '{key}' cannot be deleted while {' and '.join(named)} measure it")
    holders = sorted(g["key"] for g in groups_holding(state, project_key, key))
    if holders:
        raise invalid(f"Metric '{key}' is in metric group(s) {', '.join(holders)}; remove it from them first")
    legacy = any(
        i["metricKey"] == key
        for f in state["flags"].values()
        if f.get("projectKey") == project_key
        for i in f["experiments"]["items"]
    )
    # A deleted group kept for the experiments that measured it still lists this metric: they read it.
    kept_in_deleted_group = any(
        g.get("_deleted") and any(i["key"] == key for i in g["metrics"])
        for k, g in state["metric_groups"].items()
        if k.startswith(f"{project_key}/")
    )
    if users or legacy or kept_in_deleted_group:
        row["_deleted"] = True
    else:
        del state["metrics"][m.scoped(project_key, key)]


# -- representations ----------------------------------------------------------------------------


def dependent_experiment(state: dict[str, Any], exp: dict[str, Any]) -> dict[str, Any]:
    base = f"/api/v2/projects/{exp['projectKey']}/environments/{exp['environmentKey']}"
    env = state["projects"][exp["projectKey"]]["environments"][exp["environmentKey"]]
    out = {
        "key": exp["key"],
        "name": exp["name"],
        "environmentId": env["_id"],
        "environmentKey": exp["environmentKey"],
        "creationDate": exp["_creationDate"],
        "_links": {"self": m.link(f"{base}/experiments/{exp['key']}"), "parent": m.link(base)},
    }
    if exp.get("archivedDate") is not None:
        out["archivedDate"] = exp["archivedDate"]
    return out


def rep(
    state: dict[str, Any], project_key: str, row: dict[str, Any], expand: list[str] = (), index: Uses | None = None
) -> dict[str, Any]:
    """MetricRep (and, without the expandable parts, the MetricListingRep the list serves)."""
    key = row["key"]
    out: dict[str, Any] = {
        "_id": row["_id"],
        "_versionId": row["_versionId"],
        "_version": row.get("_version", 1),
        "key": key,
        "name": row["name"],
        "kind": row["kind"],
        "_links": {
            "parent": m.link(f"/api/v2/metrics/{project_key}"),
            "self": m.link(f"/api/v2/metrics/{project_key}/{key}"),
        },
        "_site": m.link(f"/{project_key}/metrics/{key}", "text/html"),
        "tags": list(row.get("tags", [])),
        "_creationDate": row["_creationDate"],
        "dataSource": dict(row.get("dataSource") or DATA_SOURCE),
        "isNumeric": bool(row.get("isNumeric", False)),
        "randomizationUnits": list(row.get("analysisUnits", row.get("randomizationUnits", []))),
        "analysisUnits": list(row.get("analysisUnits", row.get("randomizationUnits", []))),
        "isActive": True,
    }
    if row.get("lastModified") is not None:
        out["lastModified"] = {"date": iso(m.instant(row["lastModified"]))}
    maintainer = m.member(state, row.get("maintainerId") or "")
    if maintainer is not None:
        out["maintainerId"] = maintainer["_id"]
        out["_maintainer"] = m.member_summary(maintainer)
    for name in (*EDITABLE, "winsorExcludeImputed", "denominator"):
        if name not in out and row.get(name) is not None and name != "maintainerId":
            out[name] = row[name]
    out.setdefault("description", "")
    if row.get("eventKey") is None:
        out.pop("eventKey", None)
    _expand(state, project_key, row, out, expand, index)
    return out


def expand_experiments(
    state: dict[str, Any],
    project_key: str,
    key: str,
    out: dict[str, Any],
    expand: list[str],
    is_group: bool = False,
    index: Uses | None = None,
) -> list[dict[str, Any]]:
    """The ``experiments`` and ``experimentCount`` expansions of a metric or a metric group: the
    experiments (not holdouts) that use it, newest first (returned)."""
    measuring = uses(state, project_key, key, is_group, index)
    users = sorted(measuring, key=lambda e: (-e["_creationDate"], e["key"]))
    users = [e for e in users if e.get("type") != "holdout"]
    if "experiments" in expand:
        out["experiments"] = [dependent_experiment(state, e) for e in users]
    if "experimentCount" in expand:
        out["experimentCount"] = len(users)
        out["activeExperimentCount"] = sum(1 for e in users if running(e))
    return users


def _expand(
    state: dict[str, Any], project_key: str, row: dict, out: dict[str, Any], expand: list[str], index: Uses | None
) -> None:
    if not expand:
        return
    users = expand_experiments(state, project_key, row["key"], out, expand, index=index)
    holders = groups_holding(state, project_key, row["key"])
    if "metricGroups" in expand:
        out["metricGroups"] = [
            {
                "key": g["key"],
                "name": g["name"],
                "kind": g["kind"],
                "_links": {"self": m.link(f"/api/v2/projects/{project_key}/metric-groups/{g['key']}")},
            }
            for g in sorted(holders, key=lambda g: g["key"])
        ]
    if "metricGroupCount" in expand:
        out["metricGroupCount"] = len(holders)
    if "lastUsedInExperiment" in expand and users:
        out["lastUsedInExperiment"] = dependent_experiment(state, users[0])


# -- listing ------------------------------------------------------------------------------------


def _value(state: dict[str, Any], project_key: str, row: dict[str, Any], field: str) -> Any:
    if field == "eventKind":
        return row["kind"]
    if field == "eventKeys":
        return row.get("eventKey")
    if field == "maintainerIds":
        return row.get("maintainerId")
    if field == "versionIds":
        return row["_versionId"]
    if field == "dataSourceKeys":
        return (row.get("dataSource") or DATA_SOURCE)["key"]
    if field == "hasConnections":
        return any(True for _ in uses(state, project_key, row["key"]))
    return row.get(field)


def _holds(state: dict[str, Any], project_key: str, row: dict[str, Any], cond: filters.Condition) -> bool:
    if cond.field == "query":
        return filters.fuzzy(cond.values, row["key"], row["name"])
    if cond.field in ("view", "maintainerTeamKey"):
        return False  # the mock has no views or teams: nothing belongs to one
    if cond.field == "metricUsedIn":
        used = any(True for _ in uses(state, project_key, row["key"]))
        wanted = cond.values[0]
        if wanted not in ("experiments", "guarded_rollouts", "any", "none"):
            raise invalid("metricUsedIn is one of experiments, guarded_rollouts, any, none")
        return {"experiments": used, "any": used, "none": not used, "guarded_rollouts": False}[wanted]
    return filters.test(cond.op, _value(state, project_key, row, cond.field), cond.values)


def listing(state: dict[str, Any], project_key: str, raw_filter: str | None, sort: str | None) -> list[dict]:
    m.project(state, project_key)
    conditions = filters.parse(raw_filter, FILTERS)
    if sort is not None and sort not in SORTS:
        raise invalid(f"Unsupported sort '{sort}'; use one of {', '.join(SORTS)}")
    rows = [
        row
        for k, row in state["metrics"].items()
        if k.startswith(f"{project_key}/")
        and not row.get("_deleted")
        and all(_holds(state, project_key, row, c) for c in conditions)
    ]
    field = (sort or "-createdAt").lstrip("-")
    descending = (sort or "-createdAt").startswith("-")
    if field == "name":
        rows.sort(key=lambda r: (r["name"].lower(), r["key"]), reverse=descending)
    else:
        rows.sort(key=lambda r: (r["_creationDate"], r["key"]), reverse=descending)
    return rows


def version(row: dict[str, Any], version_id: str | None) -> dict[str, Any]:
    """The metric as of ``versionId``: the current one, or one of the last ``KEPT_VERSIONS`` a
    patch replaced (the fields that version had; key, kind and creation date never change)."""
    if version_id is None or version_id == row["_versionId"]:
        return row
    for old in row.get("_history", []):
        if old["_versionId"] == version_id:
            base = {k: v for k, v in row.items() if k not in EDITABLE and k != "_history"}
            return {**base, **old}
    raise not_found(f"Metric '{row['key']}' has no version '{version_id}' (current: {row['_versionId']})")
