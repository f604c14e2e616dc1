"""ANY /figma/{proxy+}: call Figma's REST API with the user's token, which never reaches
the browser (backend-for-frontend)."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Any

from figma_auth import entry, openapi, proxy_http, runtime, web

runtime.check()
app = web.create_app(runtime.settings)


@app.route(
    web.route_rule(proxy_http.PROXY_PATH),
    proxy_http.PROXY_METHODS,
    summary="Call Figma's REST API (v1/…, v2/…) with the user's token; Figma's answer comes back as is",
    responses=openapi.proxy_responses("unauthorized", "csrf_rejected"),
    security=openapi.SESSION_SECURITY,
)
def proxy() -> Any:
    return proxy_http.proxy_response(app, runtime.container().proxy)


lambda_handler = entry.http(app)
