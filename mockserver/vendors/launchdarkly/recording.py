"""LaunchDarkly answers back to LaunchDarkly state records (flags, metrics, metric groups,
experiments with their iterations, projects, environments, experimentation settings).

The inverse of ``vendors/launchdarkly/flags.rep``, ``experiments.rep`` and ``iterations.rep``.
An experiment is recorded from an answer that shows its iterations whole (asked with
``expand=treatments,secondaryMetrics``, and ``draftIteration,previousIterations`` to keep those
too); an answer without treatments or metrics keeps what an earlier, fuller answer recorded.
Metrics and metric groups are rebuilt from the way iterations show them; a flag that was never
fetched itself is rebuilt from the experiment's treatments (its variations and targeting rule).
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from mockserver.upstream.observe import Observation

# Holdouts and layers are not recorded: the seeded ones would claim experiments the recording replaced.
CLEARED = ("flags", "metrics", "metric_groups", "experiments", "legacy_resets", "holdouts", "layers")
EXPERIMENT_OPS = ("getExperiment", "createExperiment", "patchExperiment", "getExperiments", "getExperimentsAnyEnv")
FLAG_OPS = ("getFeatureFlag", "patchFeatureFlag")
SETTINGS_OPS = ("getExperimentationSettings", "putExperimentationSettings")
ITERATION_OPTIONAL = (
    "startedAt",
    "endedAt",
    "winningTreatmentId",
    "winningReason",
    "reallocationFrequencyMillis",
    "layerSnapshot",
)
EXPERIMENT_OPTIONAL = ("description", "archivedDate", "holdoutId", "analysisConfig")


def _hex(*parts: str) -> str:
    """A stable 24-hex-digit id for a record the answers never showed an id for."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:24]


def _scoped(*parts: str) -> str:
    return "/".join(parts)


class LaunchDarklyLayout:
    clear = CLEARED

    def observe(self, tables: dict[str, Any], obs: Observation) -> bool:
        for name in ("projects", "settings", "flags", "metrics", "metric_groups", "experiments"):
            tables.setdefault(name, {})
        project_key = obs.path_args.get("projectKey")
        body = obs.body
        if not project_key or not isinstance(body, dict):
            return False
        if obs.operation_id in FLAG_OPS:
            self._project(tables, project_key, list((body.get("environments") or {}).keys()))
            return self._flag(tables, project_key, body)
        if obs.operation_id in SETTINGS_OPS:
            self._project(tables, project_key, [], body.get("_projectId"))
            tables["settings"][project_key] = {
                "_creationDate": body.get("_creationDate", 0),
                "randomizationUnits": copy.deepcopy(body.get("randomizationUnits") or []),
            }
            return True
        if obs.operation_id in EXPERIMENT_OPS:
            items = body["items"] if isinstance(body.get("items"), list) else [body]
            recorded = False
            for item in items:
                env_key = obs.path_args.get("environmentKey") or item.get("environmentKey")
                if isinstance(item, dict) and env_key and self._experiment(tables, project_key, env_key, item):
                    recorded = True
            return recorded
        return False

    # -- projects and flags ---------------------------------------------------------------------

    def _project(
        self, tables: dict[str, Any], project_key: str, envs: list[str], project_id: str | None = None
    ) -> None:
        project = tables["projects"].setdefault(
            project_key,
            {
                "_id": project_id or _hex("project", project_key),
                "key": project_key,
                "name": project_key,
                "environments": {},
            },
        )
        if project_id:
            project["_id"] = project_id
        for env in envs:
            project["environments"].setdefault(env, {"_id": _hex("env", project_key, env), "key": env, "name": env})
        tables["settings"].setdefault(
            project_key,
            {
                "_creationDate": 0,
                "randomizationUnits": [
                    {"randomizationUnit": "user", "default": True, "_hidden": False, "_displayName": "User"}
                ],
            },
        )

    def _flag(self, tables: dict[str, Any], project_key: str, body: dict[str, Any]) -> bool:
        if "key" not in body or not isinstance(body.get("variations"), list):
            return False
        row = {k: copy.deepcopy(v) for k, v in body.items() if k != "_links"}
        existing = tables["flags"].get(_scoped(project_key, body["key"]))
        if existing is not None:  # an answer filtered to one environment keeps the others
            row["environments"] = {**existing.get("environments", {}), **row.get("environments", {})}
        for item in (row.get("experiments") or {}).get("items") or []:
            listing = item.pop("_metric", None)
            if isinstance(listing, dict) and "key" in listing:
                self._metric(tables, project_key, listing)
        row["projectKey"] = project_key
        tables["flags"][_scoped(project_key, body["key"])] = row
        return True

    def _synthetic_flag(self, tables: dict[str, Any], project_key: str, env_key: str, flag_key: str, it: dict) -> None:
        """A flag rebuilt from the treatments that name its variations, when it was never fetched itself."""
        row = tables["flags"].get(_scoped(project_key, flag_key))
        variations = [] if row is None else row["variations"]
        known = {v["_id"] for v in variations}
        for treatment in it.get("treatments") or []:
            for param in treatment.get("parameters") or []:
                if param.get("flagKey") == flag_key and param.get("variationId") not in known:
                    known.add(param["variationId"])
                    variations.append(
                        {"_id": param["variationId"], "value": treatment["name"], "name": treatment["name"]}
                    )
        spec = it["flags"][flag_key]
        rules = []
        if spec.get("targetingRule") not in (None, "fallthrough"):
            rules.append(
                {
                    "_id": spec["targetingRule"],
                    "variation": 0,
                    "description": spec.get("targetingRuleDescription", ""),
                    "trackEvents": False,
                    "clauses": copy.deepcopy(spec.get("targetingRuleClauses") or []),
                }
            )
        config = {
            "on": True,
            "archived": False,
            "salt": _hex("salt", project_key, flag_key)[:20],
            "sel": _hex("sel", project_key, flag_key),
            "lastModified": it.get("createdAt", 0),
            "version": spec.get("flagConfigVersion", 1),
            "targets": [],
            "contextTargets": [],
            "rules": rules,
            "fallthrough": {"variation": 0},
            "offVariation": max(len(variations) - 1, 0),
            "prerequisites": [],
            "_site": {"href": f"/{project_key}/{env_key}/features/{flag_key}", "type": "text/html"},
            "_environmentName": env_key,
            "trackEvents": False,
            "trackEventsFallthrough": False,
        }
        if row is None:
            row = {
                "name": flag_key,
                "kind": "multivariate",
                "description": "",
                "key": flag_key,
                "_version": 1,
                "creationDate": it.get("createdAt", 0),
                "includeInSnippet": False,
                "clientSideAvailability": {"usingMobileKey": False, "usingEnvironmentId": False},
                "variations": variations,
                "temporary": True,
                "tags": [],
                "goalIds": [],
                "experiments": {"baselineIdx": 0, "items": []},
                "customProperties": {},
                "archived": False,
                "deprecated": False,
                "defaults": {"onVariation": 0, "offVariation": max(len(variations) - 1, 0)},
                "environments": {},
                "projectKey": project_key,
            }
            tables["flags"][_scoped(project_key, flag_key)] = row
        envs = row["environments"]
        if env_key not in envs:
            envs[env_key] = config
        elif rules and not any(r.get("_id") == rules[0]["_id"] for r in envs[env_key].get("rules", [])):
            envs[env_key].setdefault("rules", []).append(rules[0])

    # -- metrics --------------------------------------------------------------------------------

    def _metric(self, tables: dict[str, Any], project_key: str, rep: dict[str, Any], created: int = 0) -> None:
        key = rep["key"]
        existing = tables["metrics"].get(_scoped(project_key, key)) or {
            "_id": rep.get("_id") or _hex("metric", project_key, key),
            "_versionId": rep.get("_versionId") or _hex("metric-version", project_key, key),
            "key": key,
            "name": rep.get("name", key),
            "kind": rep.get("kind", "custom"),
            "isNumeric": bool(rep.get("isNumeric", False)),
            "eventKey": rep.get("eventKey", key),
            "unitAggregationType": None,
            "analysisType": None,
            "randomizationUnits": ["user"],
            "tags": [],
            "_creationDate": rep.get("_creationDate", created),
        }
        for name in ("_id", "_versionId", "name", "kind", "isNumeric", "eventKey", "tags", "_creationDate"):
            if rep.get(name) is not None:
                existing[name] = copy.deepcopy(rep[name])
        for name in ("unitAggregationType", "analysisType", "randomizationUnits"):
            if rep.get(name):
                existing[name] = copy.deepcopy(rep[name])
        tables["metrics"][_scoped(project_key, key)] = existing

    def _dependent(self, tables: dict[str, Any], project_key: str, rep: dict[str, Any], created: int) -> None:
        if not rep.get("isGroup"):
            self._metric(tables, project_key, rep, created)
            return
        members = [m for m in rep.get("metrics") or [] if isinstance(m, dict) and "key" in m]
        for member in members:
            self._metric(tables, project_key, member, created)
        tables["metric_groups"][_scoped(project_key, rep["key"])] = {
            "key": rep["key"],
            "name": rep.get("name", rep["key"]),
            "kind": rep.get("kind", "standard"),
            "_versionId": rep.get("_versionId") or _hex("group-version", project_key, rep["key"]),
            "metrics": [{"key": m["key"], "nameInGroup": m.get("nameInGroup")} for m in members],
        }

    # -- experiments ----------------------------------------------------------------------------

    def _iteration(self, tables: dict[str, Any], project_key: str, env_key: str, rep: Any, old: dict) -> dict | None:
        if not isinstance(rep, dict) or "_id" not in rep:
            return None
        if not isinstance(rep.get("treatments"), list) or not isinstance(rep.get("metrics"), list):
            return copy.deepcopy(old.get(rep["_id"]))  # not shown whole: keep what a fuller answer showed
        created = rep.get("createdAt", 0)
        for metric in rep["metrics"]:
            if isinstance(metric, dict) and "key" in metric:
                self._dependent(tables, project_key, metric, created)
        for single in [rep.get("primarySingleMetric"), *(rep.get("secondaryMetrics") or [])]:
            if isinstance(single, dict) and "key" in single:
                self._metric(tables, project_key, single, created)
        primary = (rep.get("primaryMetric") or {}).get("key") or rep["metrics"][0]["key"]
        row: dict[str, Any] = {
            "_id": rep["_id"],
            "hypothesis": rep.get("hypothesis", ""),
            "status": rep.get("status", "not_started"),
            "createdAt": created,
            "canReshuffleTraffic": rep.get("canReshuffleTraffic", True),
            "version": rep.get("version", 1),
            "flags": {},
            "metrics": [{"key": m["key"], "isGroup": bool(m.get("isGroup"))} for m in rep["metrics"]],
            "primary": primary,
            "treatments": [
                {
                    "_id": t["_id"],
                    "name": t["name"],
                    "allocationPercent": t["allocationPercent"],
                    "baseline": t["baseline"],
                    "parameters": [{"flagKey": p["flagKey"], "variationId": p["variationId"]} for p in t["parameters"]],
                }
                for t in rep["treatments"]
            ],
            "randomizationUnit": rep.get("randomizationUnit", ""),
            "attributes": list(rep.get("attributes") or []),
        }
        for name in ITERATION_OPTIONAL:
            if rep.get(name) is not None:
                row[name] = copy.deepcopy(rep[name])
        for flag_key, spec in (rep.get("flags") or {}).items():
            entry = {
                "ruleId": spec.get("targetingRule", "fallthrough"),
                "flagConfigVersion": spec.get("flagConfigVersion", 1),
            }
            if spec.get("notInExperimentVariationId"):
                entry["notInExperimentVariationId"] = spec["notInExperimentVariationId"]
            row["flags"][flag_key] = entry
            self._synthetic_flag(tables, project_key, env_key, flag_key, rep)
        return row

    def _experiment(self, tables: dict[str, Any], project_key: str, env_key: str, item: dict[str, Any]) -> bool:
        if "key" not in item or "_id" not in item:
            return False
        self._project(tables, project_key, [env_key])
        scoped = _scoped(project_key, env_key, item["key"])
        existing = tables["experiments"].get(scoped) or {}
        old = {it["_id"]: it for it in existing.get("iterations", [])}
        current = self._iteration(tables, project_key, env_key, item.get("currentIteration"), old)
        draft = self._iteration(tables, project_key, env_key, item.get("draftIteration"), old)
        if item.get("currentIteration") is not None and current is None:
            return False  # an iteration never shown whole: nothing the mock could serve
        previous = []
        for rep in reversed(item.get("previousIterations") or []):
            row = self._iteration(tables, project_key, env_key, rep, old)
            if row is not None:
                previous.append(row)
        if "previousIterations" not in item:  # not asked for: keep the ones recorded before
            shown = {r["_id"] for r in (current, draft) if r}
            previous = [
                it
                for it in existing.get("iterations", [])
                if it["_id"] not in shown
                and it["_id"] not in (existing.get("currentIterationId"), existing.get("draftIterationId"))
            ]
        iterations = [*previous]
        for row in (current, draft):
            if row is not None and all(row["_id"] != it["_id"] for it in iterations):
                iterations.append(row)
        if not iterations:
            return False
        draft_id = draft["_id"] if draft else None
        if draft_id is None and current is not None and current["status"] == "not_started":
            draft_id = current["_id"]
        row = {
            "_id": item["_id"],
            "key": item["key"],
            "name": item.get("name", item["key"]),
            "projectKey": project_key,
            "environmentKey": env_key,
            "_maintainerId": item.get("_maintainerId", ""),
            "_creationDate": item.get("_creationDate", 0),
            "methodology": item.get("methodology", "bayesian"),
            "dataSource": item.get("dataSource", "launchdarkly"),
            "tags": list(item.get("tags") or []),
            "type": item.get("type", "experiment"),
            "iterations": iterations,
            "currentIterationId": current["_id"] if current else None,
            "draftIterationId": draft_id,
        }
        for name in EXPERIMENT_OPTIONAL:
            if item.get(name) is not None:
                row[name] = copy.deepcopy(item[name])
            elif name == "analysisConfig" and existing.get(name) is not None:
                row[name] = existing[name]
        tables["experiments"][scoped] = row
        return True

    def apply(self, part: dict[str, Any], tables: dict[str, Any]) -> None:
        for name, rows in tables.items():
            part.setdefault(name, {}).update(rows)
