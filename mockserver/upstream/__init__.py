"""Proxy-and-verify: forward vendor requests to the real services, check their answers against our
contract, and optionally record what they held as a state document.

Framework-free: ``Forwarder`` (method, path, query, headers, body in; status, headers, body
out), ``check_reply`` (the contract's view of an answer), ``DriftLog`` and ``Recorder``. The pipeline's
``forward`` stage (``mockserver/web/proxy.py``) puts them to work.
"""

from __future__ import annotations

from mockserver.upstream.forwarder import Forwarder, Reply, Upstream, UpstreamError, parse_upstreams
from mockserver.upstream.observe import DriftLog, Observation, check_reply
from mockserver.upstream.recorder import Recorder

__all__ = [
    "DriftLog",
    "Forwarder",
    "Observation",
    "Recorder",
    "Reply",
    "Upstream",
    "UpstreamError",
    "check_reply",
    "parse_upstreams",
]
