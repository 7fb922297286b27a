"""Vendors are found, not listed: each registers itself under the ``mockserver.vendors`` entry point.

A vendor package's entry point names a ``VendorPlugin``: its name, how to build it for a runtime,
and the settings it adds (which become ``mockserver serve`` flags and ``MOCKSERVER_*`` variables).
Installing a package that declares the entry point is all it takes to add a vendor.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.client import Client
    from mockserver.core.runtime import Runtime
    from mockserver.core.vendor import Vendor

GROUP = "mockserver.vendors"


@dataclass(frozen=True)
class Option:
    """A vendor setting: ``--<vendor>-<name>`` on the CLI, ``MOCKSERVER_<VENDOR>_<NAME>`` in the environment."""

    vendor: str
    name: str
    default: Any
    help: str
    kind: type = bool

    @property
    def key(self) -> str:
        return f"{self.vendor}_{self.name}"

    def parse(self, raw: str) -> Any:
        if self.kind is bool:
            word = raw.strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(f"must be one of 1, true, yes, on, 0, false, no, off, not {raw!r}")
        try:
            return self.kind(raw)
        except ValueError:
            raise ValueError(f"must be {self.kind.__name__}, not {raw!r}") from None


@dataclass(frozen=True)
class VendorPlugin:
    name: str
    build: Callable[[Runtime], Vendor]
    options: tuple[Option, ...] = ()
    # The vendor's helpers on a control client (``mockserver.Client``), reached as
    # ``client.<name>``: its control-API routes and URLs. Names the object lists in ``shortcuts``
    # are also offered on the client itself (the fixture's older spellings).
    control: Callable[[Client], object] | None = None


class RegistryError(RuntimeError):
    """An entry point that does not name a usable vendor: start-up stops with this message."""


@functools.cache
def discover() -> tuple[VendorPlugin, ...]:
    """Every installed vendor, ordered by name; cached (``discover.cache_clear()`` to look again)."""
    found: dict[str, VendorPlugin] = {}
    for point in entry_points(group=GROUP):
        try:
            plugin = point.load()
        except Exception as exc:  # a broken plugin must say which one it is
            raise RegistryError(f"vendor entry point {point.name!r} ({point.value}) failed to load: {exc}") from exc
        if not isinstance(plugin, VendorPlugin):
            raise RegistryError(f"vendor entry point {point.name!r} ({point.value}) is not a VendorPlugin")
        if plugin.name in found and found[plugin.name] is not plugin:
            raise RegistryError(f"two vendors are called {plugin.name!r}")
        found[plugin.name] = plugin
    if not found:
        raise RegistryError(f"no vendor is installed (entry point group {GROUP!r}); reinstall the package")
    return tuple(found[name] for name in sorted(found))


def options() -> tuple[Option, ...]:
    return tuple(option for plugin in discover() for option in plugin.options)


def option_defaults() -> dict[str, Any]:
    return {option.key: option.default for option in options()}
