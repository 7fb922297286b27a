"""An experiment, not how the server runs: the mock behind granian's RSGI interface (HTTP in Rust),
each request handled inline on the one event-loop thread, and handed to a thread pool only while
a delay can apply (``--latency`` or a fault rule), so a delay never stalls the other requests.

Measured against ``mockserver serve`` (waitress) by ``tails_compare.py --front granian-rsgi``; see
RESULTS.md. ``granian --interface rsgi --workers 1 --runtime-threads 1 rsgi_front:app``.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from mockserver.app import create_app
from mockserver.core import heap
from mockserver.core.settings import Settings
from mockserver.transports import call_wsgi, may_be_slow

wsgi = create_app(Settings())
gc.collect()
gc.freeze()  # as `mockserver serve` does after start-up
heap.settle_growth()


async def app(scope: Any, proto: Any) -> None:
    body = await proto()
    host = scope.headers.get("host") or "127.0.0.1"
    url = f"http://{host}{scope.path}" + (f"?{scope.query_string}" if scope.query_string else "")
    headers = list(scope.headers.items())
    if may_be_slow(wsgi):
        loop = asyncio.get_running_loop()
        status, out, content = await loop.run_in_executor(None, call_wsgi, wsgi, scope.method, url, headers, body)
    else:
        status, out, content = call_wsgi(wsgi, scope.method, url, headers, body)
    proto.response_bytes(status, out, content)
