"""HTTP prediction service: a Flask app served by gunicorn.

Modules: :mod:`.app` (the app factory), :mod:`.routes` (the endpoints), :mod:`.payloads`
(request bodies to validated features), :mod:`.batching` (concurrent requests scored
together), :mod:`.served` (the served model),
:mod:`.metrics` (Prometheus), :mod:`.openapi` (the API description), :mod:`.errors`
(the JSON error shape) and :mod:`.server` (gunicorn and the development server).

This module imports nothing on purpose: ``prometheus_client`` must not be imported before
:data:`MULTIPROCESS_ENV` is set, which :func:`.server.run_gunicorn` does before workers start.
"""

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Directory where each gunicorn worker writes its metrics (``prometheus_client``'s variable)."""

MICROBATCH_MAX_ROWS = 64
"""Most rows of concurrent requests scored in one model call by default; 0 turns it off."""
MICROBATCH_MAX_WAIT_MS = 10.0
"""Most milliseconds a batch waits by default for more requests (only under load)."""
