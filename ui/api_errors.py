"""OpenAI-shaped errors for every answer the API gives that is not a success.

OpenAI clients read `{"error": {"message", "type", "param", "code"}}` and raise by status (404 ->
`NotFoundError`, 400 -> `BadRequestError`, ...). FastAPI's own answers (`{"detail": ...}` for an unknown
route, a wrong method or an invalid body) and unexpected failures are turned into that shape here; the
request's model is checked against the served ones (`model_not_found`, as OpenAI servers answer).
Knows HTTP and the error shape; knows nothing about the shop.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


def error_body(message: str, code: str | None, kind: str = "invalid_request_error", param: str | None = None
               ) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def install_error_handlers(app: FastAPI) -> None:
    """Unknown routes, wrong methods, invalid bodies and unexpected failures answer in OpenAI's shape."""

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            body = error_body(f"Unknown request URL: {request.method} {request.url.path}. See the API's "
                              "endpoints at /docs.", "unknown_url")
        elif exc.status_code == 405:
            body = error_body(f"Method {request.method} is not allowed for {request.url.path}.", "method_not_allowed")
        else:
            kind = "server_error" if exc.status_code >= 500 else "invalid_request_error"
            body = error_body(str(exc.detail), None, kind)
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        first = (exc.errors() or [{}])[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or None
        return JSONResponse(error_body(f"invalid request: {first.get('msg', 'bad body')}", "invalid_request",
                                       param=where), status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return JSONResponse(error_body("The server had an error while processing your request.", None,
                                       "server_error"), status_code=500)


def check_model(data: dict[str, Any], served: list[str]):
    """None when the request names a served model (or none: the server's own); else the 404 OpenAI gives."""
    model = data.get("model")
    if model is None or model in served:
        return None
    if not isinstance(model, str):
        return JSONResponse(error_body("'model' must be a string", "invalid_model", param="model"), status_code=400)
    return JSONResponse(error_body(f"The model '{model}' does not exist or you do not have access to it. This "
                                   f"server serves: {', '.join(served)}.", "model_not_found", param="model"),
                        status_code=404)
