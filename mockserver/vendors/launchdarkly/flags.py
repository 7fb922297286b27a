"""Feature flags: creation, deletion, and storing a changed flag.

Every way of changing a flag (JSON Patch, JSON merge patch, semantic patch) produces a candidate
document; ``commit`` checks it against the rules every flag satisfies (``flag_rules``), the
experiments and flags that depend on it, and the contract, then stores it (or, for a dry run,
only answers with it).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mockserver.core.problems import Problem
from mockserver.core.store import next_uuid
from mockserver.vendors.launchdarkly import flag_dependents, flag_rules, legacy_experiments
from mockserver.vendors.launchdarkly import models as m
from mockserver.vendors.launchdarkly.errors import already_exists, invalid

INTERNAL = ("projectKey",)
# Fields a change may touch: the flag's own, and each environment's targeting.
PATCHABLE = (
    "name",
    "description",
    "tags",
    "temporary",
    "archived",
    "deprecated",
    "experiments",
    "customProperties",
    "variations",
    "defaults",
    "clientSideAvailability",
    "includeInSnippet",
    "maintainerId",
    "maintainerTeamKey",
    "goalIds",
)
PATCHABLE_ENV = (
    "on",
    "fallthrough",
    "offVariation",
    "rules",
    "targets",
    "contextTargets",
    "prerequisites",
    "trackEvents",
    "trackEventsFallthrough",
)
MIGRATION_STAGES = {
    2: ["off", "complete"],
    4: ["off", "shadow", "live", "complete"],
    6: ["off", "dualwrite", "shadow", "live", "rampdown", "complete"],
}


def document(row: dict[str, Any]) -> dict[str, Any]:
    """The flag as changes see it: a private copy without the store's own bookkeeping."""
    return {k: copy.deepcopy(v) for k, v in row.items() if k not in INTERNAL}


def new_id(state: dict[str, Any]) -> str:
    return next_uuid(state)


@contextmanager
def provisional_ids(state: dict[str, Any], *, keep: bool = True) -> Iterator[None]:
    """Ids drawn while a change is worked out go back when it is refused (or when ``keep`` is false,
    for a dry run), so a request that changes nothing leaves the id sequences alone too."""
    sequences = state.setdefault("sequences", {})
    saved = dict(sequences)
    try:
        yield
    except Problem:
        sequences.clear()
        sequences.update(saved)
        raise
    if not keep:
        sequences.clear()
        sequences.update(saved)


# -- storing a change ---------------------------------------------------------------------------


def _settle(state: dict[str, Any], before: dict[str, Any], doc: dict[str, Any], now_ms: int) -> None:
    """What the service derives itself: ids for new variations, rules and clauses, and lifecycle dates."""
    for fixed in ("key", "kind", "creationDate", "_version", "_purpose", "migrationSettings"):
        if fixed in before:
            doc[fixed] = before[fixed]
        else:
            doc.pop(fixed, None)
    variations = doc.get("variations")
    for variation in variations if isinstance(variations, list) else []:
        if isinstance(variation, dict) and "_id" not in variation:
            variation["_id"] = new_id(state)
    environments = doc.get("environments")
    for config in environments.values() if isinstance(environments, dict) else []:
        if not isinstance(config, dict):
            continue
        rules = config.get("rules")
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict):
                rule.setdefault("_id", new_id(state))
                rule.setdefault("trackEvents", False)
                clauses = rule.get("clauses")
                for clause in clauses if isinstance(clauses, list) else []:
                    if isinstance(clause, dict):
                        clause.setdefault("_id", new_id(state))
                        clause.setdefault("negate", False)
        if doc.get("archived") is not before.get("archived"):
            config["archived"] = doc.get("archived") is True
    for name, stamp in (("archived", "archivedDate"), ("deprecated", "deprecatedDate")):
        if doc.get(name) is True and not before.get(name):
            doc[stamp] = now_ms
        elif doc.get(name) is False:
            doc.pop(stamp, None)
        elif stamp in before:
            doc[stamp] = before[stamp]


def commit(
    state: dict[str, Any], row: dict[str, Any], doc: dict[str, Any], now_ms: int, *, dry_run: bool = False
) -> dict[str, Any]:
    """Check a changed flag document and store it; a dry run answers with what would be stored."""
    project_key = row["projectKey"]
    before = document(row)
    _settle(state, before, doc, now_ms)
    if before["archived"] and doc.get("archived") is not False and doc != before:
        raise invalid(
            f"Flag '{row['key']}' is archived; restore it first (restoreFlag, or replace /archived with false)"
        )
    flag_rules.check(state, project_key, before, doc)
    moved = flag_dependents.guard_change(state, project_key, before, doc)
    legacy_experiments.record_periods(before, doc, now_ms)
    if doc != before:
        doc["_version"] = before["_version"] + 1
        for env_key, config in doc["environments"].items():
            if config != before["environments"][env_key]:
                config["version"] = before["environments"][env_key]["version"] + 1
                config["lastModified"] = now_ms
    candidate = dict(doc, projectKey=project_key)
    flag_rules.check_shape(state, candidate)
    if dry_run:
        return candidate
    row.clear()
    row.update(candidate)
    flag_dependents.move_prerequisites(state, project_key, row["key"], moved)
    return row


# -- creation and deletion ----------------------------------------------------------------------


def _variations(body: dict[str, Any], state: dict[str, Any]) -> list[dict[str, Any]]:
    settings = body.get("migrationSettings")
    if body.get("purpose") == "migration":
        if body.get("variations"):
            raise invalid("A migration flag's variations are its stages: omit variations and set migrationSettings")
        if not isinstance(settings, dict) or settings.get("stageCount") not in MIGRATION_STAGES:
            raise invalid("A migration flag needs migrationSettings.stageCount: 2, 4 or 6")
        if (settings["stageCount"] == 6) != bool(settings.get("contextKind")):
            raise invalid("migrationSettings.contextKind is required for six stages and must be omitted otherwise")
        stages = MIGRATION_STAGES[settings["stageCount"]]
        return [{"_id": new_id(state), "value": s, "name": s.capitalize()} for s in stages]
    if settings is not None:
        raise invalid('migrationSettings applies only to a flag created with purpose "migration"')
    given = body.get("variations") or [{"value": True}, {"value": False}]
    out = []
    for variation in given:
        item = {"_id": new_id(state), "value": copy.deepcopy(variation["value"])}
        for text in ("name", "description"):
            if variation.get(text) is not None:
                item[text] = variation[text]
        out.append(item)
    return out


def _kind(variations: list[dict[str, Any]]) -> str:
    values = [v["value"] for v in variations]
    return (
        "boolean"
        if len(values) == 2 and True in values and False in values and all(isinstance(v, bool) for v in values)
        else "multivariate"
    )


def _environment(state: dict[str, Any], project_key: str, flag_key: str, env_key: str, on: bool, defaults) -> dict:
    env = state["projects"][project_key]["environments"][env_key]
    token = next_uuid(state).replace("-", "")
    return {
        "on": on,
        "archived": False,
        "salt": token[:20],
        "sel": token,
        "lastModified": 0,
        "version": 1,
        "targets": [],
        "contextTargets": [],
        "rules": [],
        "fallthrough": {"variation": defaults["onVariation"]},
        "offVariation": defaults["offVariation"],
        "prerequisites": [],
        "_site": m.link(f"/{project_key}/{env_key}/features/{flag_key}"),
        "_environmentName": env.get("name", env_key),
        "trackEvents": False,
        "trackEventsFallthrough": False,
    }


def fill_environments(part: dict[str, Any]) -> None:
    """A flag with no settings for an environment of its project gets those a new flag gets there
    (off): a recorded fixture holds only the environments that were fetched, and every flag has
    settings in every environment. What changes is copied first: a document's records are shared."""
    flags, projects = part.get("flags"), part.get("projects")
    if not isinstance(flags, dict) or not isinstance(projects, dict):
        return
    copied = False
    for key, flag in list(flags.items()):
        if not isinstance(flag, dict) or not isinstance(flag.get("environments"), dict):
            continue  # unchecked data (this runs before the checks): what is malformed they refuse
        project = projects.get(flag.get("projectKey"))
        wanted = project.get("environments") if isinstance(project, dict) else None
        missing = [
            env
            for env, settings in (wanted.items() if isinstance(wanted, dict) else ())
            if env not in flag["environments"] and isinstance(settings, dict)
        ]
        if not missing or not isinstance(flag.get("key"), str):
            continue
        if not copied:
            part["flags"] = flags = dict(flags)
            part["sequences"] = dict(part.get("sequences") or {})
            copied = True
        flag = flags[key] = {**flag, "environments": dict(flag["environments"])}
        variations = flag.get("variations") if isinstance(flag.get("variations"), list) else []
        defaults = flag.get("defaults")
        if not isinstance(defaults, dict) or not {"onVariation", "offVariation"} <= set(defaults):
            defaults = {"onVariation": 0, "offVariation": max(len(variations) - 1, 0)}
        for env in missing:
            flag["environments"][env] = _environment(part, flag["projectKey"], flag["key"], env, False, defaults)


def _cloned_targeting(state: dict[str, Any], source: dict[str, Any], config: dict[str, Any], env_key: str) -> None:
    """Copy a source flag's targeting into a new flag's environment, with fresh rule and clause ids."""
    theirs = copy.deepcopy(source["environments"].get(env_key) or {})
    for name in ("on", "targets", "contextTargets", "fallthrough", "offVariation", "prerequisites"):
        if name in theirs:
            config[name] = theirs[name]
    for name in ("trackEvents", "trackEventsFallthrough"):
        config[name] = bool(theirs.get(name, False))
    config["rules"] = theirs.get("rules", [])
    for rule in config["rules"]:
        rule["_id"] = new_id(state)
        for clause in rule.get("clauses", []):
            clause["_id"] = new_id(state)


def create(
    state: dict[str, Any], project_key: str, body: dict[str, Any], member_id: str | None, now_ms: int, clone: str | None
) -> dict[str, Any]:
    """A new flag from FeatureFlagBody, configured in every environment of the project."""
    with provisional_ids(state):
        return _create(state, project_key, body, member_id, now_ms, clone)


def _create(
    state: dict[str, Any], project_key: str, body: dict[str, Any], member_id: str | None, now_ms: int, clone: str | None
) -> dict[str, Any]:
    project = m.project(state, project_key)
    flag_rules.check_depth(body)
    key = body["key"]
    if not m.KEY.match(key):
        raise invalid(
            f"Invalid flag key '{key}': use letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    if not body["name"].strip():
        raise invalid("name may not be empty")
    if m.scoped(project_key, key) in state["flags"]:
        raise already_exists("A feature with that key already exists")
    source = m.flag(state, project_key, clone) if clone is not None else None
    if source is not None:
        variations = [dict(copy.deepcopy(v), _id=new_id(state)) for v in source["variations"]]
        kind = source["kind"]
    else:
        variations = _variations(body, state)
        kind = "multivariate" if body.get("purpose") == "migration" else _kind(variations)
    count = len(variations)
    defaults = body.get("defaults") or (source or {}).get("defaults")
    if defaults is None:
        values = [v["value"] for v in variations]
        on, off = (values.index(True), values.index(False)) if kind == "boolean" else (0, count - 1)
        defaults = {"onVariation": on, "offVariation": 0 if body.get("purpose") == "migration" else off}
    availability = body.get("clientSideAvailability")
    if availability is None:
        snippet = body.get("includeInSnippet", False)
        availability = (source or {}).get("clientSideAvailability") or {
            "usingEnvironmentId": snippet,
            "usingMobileKey": True,
        }
    row: dict[str, Any] = {
        "name": body["name"],
        "kind": kind,
        "description": body.get("description", (source or {}).get("description", "")),
        "key": key,
        "_version": 1,
        "creationDate": now_ms,
        "includeInSnippet": bool(availability.get("usingEnvironmentId")),
        "clientSideAvailability": dict(availability),
        "variations": variations,
        "temporary": body.get("temporary", (source or {}).get("temporary", True)),
        "tags": list(dict.fromkeys(body.get("tags", (source or {}).get("tags", [])))),
        "goalIds": [],
        "experiments": {"baselineIdx": 0, "items": []},
        "customProperties": copy.deepcopy(body.get("customProperties", {})),
        "archived": False,
        "deprecated": False,
        "defaults": dict(defaults),
        "environments": {},
    }
    maintainer = body.get("maintainerId")
    if maintainer is not None and maintainer not in flag_rules.member_ids(state):
        raise invalid(f"maintainerId '{maintainer}' is not a member of this account")
    if body.get("maintainerTeamKey"):
        row["maintainerTeamKey"] = body["maintainerTeamKey"]
    elif maintainer or member_id:
        row["maintainerId"] = maintainer or member_id
    if body.get("purpose"):
        row["_purpose"] = body["purpose"]
    if body.get("purpose") == "migration":
        row["migrationSettings"] = dict(body["migrationSettings"])
    if not all(flag_rules.is_index(defaults.get(name), count) for name in ("onVariation", "offVariation")):
        raise invalid(f"defaults.onVariation and defaults.offVariation must be variation indexes below {count}")
    prerequisites = []
    for index, item in enumerate(body.get("initialPrerequisites") or []):
        other = state["flags"].get(m.scoped(project_key, item["key"]))
        if other is None:
            raise invalid(f"initialPrerequisites[{index}]: unknown flag '{item['key']}' in project '{project_key}'")
        variation = m.variation_index(other, item["variationId"])
        if variation is None:
            raise invalid(
                f"initialPrerequisites[{index}]: '{item['variationId']}' is not a variation of '{other['key']}'"
            )
        prerequisites.append({"key": item["key"], "variation": variation})
    for env_key in project["environments"]:
        config = _environment(state, project_key, key, env_key, bool(body.get("isFlagOn", False)), defaults)
        config["lastModified"] = now_ms
        if source is not None:
            _cloned_targeting(state, source, config, env_key)
        if prerequisites:
            config["prerequisites"] = copy.deepcopy(prerequisites)
        row["environments"][env_key] = config
    empty = {**row, "environments": {k: dict(c, prerequisites=[]) for k, c in row["environments"].items()}}
    flag_rules.check(state, project_key, empty, row)
    candidate = dict(row, projectKey=project_key)
    flag_rules.check_shape(state, candidate)
    state["flags"][m.scoped(project_key, key)] = candidate
    return candidate


def delete(state: dict[str, Any], row: dict[str, Any]) -> None:
    """Delete a flag in every environment, unless another flag or a live experiment still needs it."""
    flag_dependents.guard_delete(state, row)
    del state["flags"][m.scoped(row["projectKey"], row["key"])]
    legacy_experiments.forget(state, row["projectKey"], row["key"])
