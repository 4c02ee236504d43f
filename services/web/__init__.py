"""The web console: an ASGI (Starlette on uvicorn) process beside the gRPC services.

It renders HTML shells whose scripts call the JSON API under /api/v1; every API endpoint makes one or a
few gRPC calls through the Python client (`strata.client.Client`) with the signed-in caller's API key,
so the services' permission table is the only authority. The console never opens the database.

  app.py        the Starlette application: routes, middleware, static files
  config.py     the console's settings (STRATA_WEB_*)
  bridge.py     gRPC calls in a thread pool with the caller's key; gRPC status -> HTTP status
  sessions.py   server-side sessions (random id in an HttpOnly cookie, expiry, revocation)
  security.py   who is calling (session or bearer key), CSRF and same-origin checks, security headers
  convert.py    protobuf messages -> JSON-ready dicts
  api_*.py      the JSON endpoints, one module per area
  pages.py      the HTML shells (no data in them beyond escaped names; scripts fetch the rest)
  compare.py    grouping sampled histories into mean lines and min/max bands
  static/       CSS, the console's scripts and vendored chart/graph libraries (with their licences)
"""
