"""API Gateway (REST API, Lambda proxy integration) on 127.0.0.1: each request becomes the v1 proxy event
the deployed function receives, and the function's answer becomes the HTTP response."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

STAGE = "local"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway REST payload limit
# A synchronous Lambda invocation takes at most this much request payload: the whole proxy event as JSON
# (Lambda's RequestEntityTooLargeException says "smaller than 6291456 bytes"). It bites first: a body
# of about 6 MB never reaches the function on AWS, so none does here.
LAMBDA_MAX_REQUEST_BYTES = 6 * 1024 * 1024
INTEGRATION_TIMEOUT_SECONDS = 29.0  # a REST API's longest wait for its Lambda integration


@dataclass(frozen=True)
class Route:
    resource: str  # API Gateway resource path, e.g. /ingest/syncs/{syncId}
    methods: tuple[str, ...]
    function: str  # functions/<function>/handler.py

    def match(self, path: str) -> dict[str, str] | None:
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.resource))
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern + "/?", path)  # as API Gateway, a trailing slash reaches the same resource
        return found.groupdict() if found else None


# Every route of DESIGN.md, the web chat channel, and the admin API once it exists.
ROUTES: tuple[Route, ...] = (
    Route("/ingest/products", ("POST",), "ingest"),
    Route("/api/receive-products", ("POST",), "ingest"),
    Route("/ingest/syncs/{syncId}", ("GET",), "ingest"),
    Route("/health", ("GET",), "ingest"),
    Route("/webhooks/whatsapp", ("GET", "POST"), "webhook"),
    Route("/webhooks/meta", ("GET", "POST"), "webhook"),
    Route("/webhooks/support-board", ("POST",), "webhook"),
    Route("/webchat/messages", ("GET", "POST", "OPTIONS"), "webchat"),
    Route("/admin/{proxy+}", ("GET", "POST", "PUT", "PATCH", "DELETE"), "admin"),
    # The admin console's page and seed 003's export route, served by the admin function (docs/console.md).
    Route("/console", ("GET",), "admin"),
    Route("/console/{proxy+}", ("GET",), "admin"),
    Route("/api/v1/export/conversations", ("GET",), "admin"),
)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def find_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        params = route.match(path)
        if params is not None and method in route.methods:
            return route, params
    return None


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value  # API Gateway keeps the last value in the single-value map
        multi.setdefault(key, []).append(value)
    return single, multi


def proxy_event(route: Route, path_parameters: dict[str, str], request: HttpRequest) -> dict[str, Any]:
    headers, multi_headers = _single_and_multi(request.headers)
    query, multi_query = _single_and_multi(request.query)
    try:
        body: str | None = request.body.decode("utf-8") if request.body else None
        is_base64 = False
    except UnicodeDecodeError:
        body, is_base64 = base64.b64encode(request.body).decode("ascii"), True
    now = time.time()
    user_agent = next((v for k, v in request.headers if k.lower() == "user-agent"), None)
    host = next((v for k, v in request.headers if k.lower() == "host"), "127.0.0.1")
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or {},
        "multiValueHeaders": multi_headers or {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "extendedRequestId": uuid.uuid4().hex[:16],
            "httpMethod": request.method,
            "identity": {"sourceIp": request.source_ip, "userAgent": user_agent},
            "path": f"/{STAGE}{request.path}",
            "protocol": "HTTP/1.1",
            "requestId": str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": "local",
            "resourcePath": route.resource,
            "stage": STAGE,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _gateway_error(status: int, message: str) -> HttpResponse:
    body = json.dumps({"message": message}).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", message)], body)


def proxy_response(result: Any) -> HttpResponse:
    """What API Gateway makes of a proxy integration's answer; anything malformed is a 502."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return _gateway_error(502, "Internal server error")
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers = [(k, v) for k, v in headers if k.lower() != str(key).lower()]
        headers.extend((str(key), str(value)) for value in values)
    raw = result.get("body") or ""
    if not isinstance(raw, str):
        return _gateway_error(502, "Internal server error")
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode("utf-8")
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(result["statusCode"], headers, body)


@dataclass(frozen=True)
class Dispatched:
    response: HttpResponse
    function: str | None = None
    error: BaseException | None = None  # the function raised (API Gateway answers 502)
    resource: str | None = None  # the route template (/admin/{proxy+}), what an access log may show


def dispatch(request: HttpRequest, invoke: Callable[[str, dict[str, Any]], Any]) -> Dispatched:
    """Route, build the event, invoke the function and shape its answer as API Gateway would."""
    from local.functions import FunctionNotBuilt, FunctionTimedOut

    if len(request.body) > MAX_BODY_BYTES:
        return Dispatched(_gateway_error(413, "Request Too Long"))
    found = find_route(request.method, request.path)
    if found is None:
        # What a REST API answers for an unknown path or method.
        return Dispatched(_gateway_error(403, "Missing Authentication Token"))
    route, params = found
    event = proxy_event(route, params, request)
    if _payload_bytes(event) >= LAMBDA_MAX_REQUEST_BYTES:
        # Lambda refuses the invocation; API Gateway answers 413 {"message": "Request Too Long"} itself, error
        # type BadRequestException (as observed on AWS: koki-develop/lgtm-generator issue 10).
        response = _gateway_error(413, "Request Too Long")
        headers = [(k, v) for k, v in response.headers if k != "x-amzn-ErrorType"] + [
            ("x-amzn-ErrorType", "BadRequestException")
        ]
        return Dispatched(HttpResponse(413, headers, response.body), route.function, resource=route.resource)
    try:
        result = invoke(route.function, event)
    except FunctionNotBuilt as missing:
        response = _gateway_error(501, f"Not built yet in this checkout: {missing}")
        return Dispatched(response, route.function, resource=route.resource)
    except FunctionTimedOut as timed_out:
        # API Gateway gives up at 29 s (504); a function with a shorter timeout fails first (502).
        if timed_out.seconds >= INTEGRATION_TIMEOUT_SECONDS:
            response = _gateway_error(504, "Endpoint request timed out")
        else:
            response = _gateway_error(502, "Internal server error")
        return Dispatched(response, route.function, timed_out, route.resource)
    except Exception as error:
        return Dispatched(_gateway_error(502, "Internal server error"), route.function, error, route.resource)
    return Dispatched(proxy_response(result), route.function, resource=route.resource)


def _payload_bytes(event: dict[str, Any]) -> int:
    """The event's size as Lambda counts it: its JSON (compact; non-ASCII as UTF-8)."""
    return len(json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
