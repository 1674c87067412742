"""Logging and metrics, wired once for every function of the app.

Environment variables (read by Powertools at import)
----------------------------------------------------
POWERTOOLS_SERVICE_NAME
    Service key of every log line and the metrics dimension (default ``helpdesk``).
POWERTOOLS_METRICS_NAMESPACE
    CloudWatch namespace of the metrics (default ``Helpdesk``).
POWERTOOLS_LOG_LEVEL
    Log level (default ``INFO``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.settings import get_settings

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "helpdesk")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Helpdesk"), service=SERVICE)


def http_middleware(request: Any, get_response: Callable[[Any], Any]) -> Any:
    """Tag every log line of a request, log its outcome, and flush its metrics."""
    get_settings()  # a stage without its secret fails on every call, not on page two
    context = request.context or {}
    lambda_context = getattr(request, "lambda_context", None)
    logger.append_keys(
        # Lambda's id finds the invocation in CloudWatch; API Gateway's, the access log.
        request_id=getattr(lambda_context, "aws_request_id", None),
        api_request_id=context.get("requestId"),
        method=request.method,
        path=context.get("resourcePath"),
    )
    try:
        response = get_response(request)
        status = response.status_code
        if status >= 500:
            count("ServerErrors")
        logger.info("request handled", extra={"status": status})
        return response
    finally:
        flush_metrics()
        logger.remove_keys(["request_id", "api_request_id", "method", "path", "ticket_number"])


def event_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Tag the log lines of a non-HTTP invocation with its request id."""
    context = getattr(event, "context", None)
    logger.append_keys(request_id=getattr(context, "aws_request_id", None))
    try:
        return get_response(event)
    finally:
        flush_metrics()


def count(name: str, value: int = 1) -> None:
    """Add to a count metric of this invocation (published when the invocation ends)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    """Publish what this invocation recorded; an invocation that recorded nothing is silent."""
    if metrics.metric_set:
        metrics.flush_metrics()
        # Disabled metrics (tests, the local stack) are not cleared by Powertools: the set would
        # grow across invocations and print itself whenever a metric reached 100 values.
        metrics.clear_metrics()
