"""HTTP prediction service: a Flask app served by gunicorn.

Modules: :mod:`.app` (the app factory), :mod:`.routes` (the endpoints), :mod:`.payloads`
(request bodies to validated features), :mod:`.scoring` (the served model),
:mod:`.metrics` (Prometheus), :mod:`.openapi` (the API description), :mod:`.errors`
(the JSON error shape) and :mod:`.server` (gunicorn and the development server).

This package imports nothing on purpose: ``prometheus_client`` must be imported only after
``PROMETHEUS_MULTIPROC_DIR`` is set, which :func:`.server.run_gunicorn` does before workers
start.
"""
