"""Every entry of `errors[]` carries `extensions.code`, so clients can tell request mistakes
(which GraphQL reports before any resolver runs) from server failures."""

from __future__ import annotations

from graphql import GraphQLError


def error_code(error: GraphQLError) -> str:
    """The code of an error: the original's `code` if it has one, else by where it arose."""
    original = error.original_error
    if original is not None and getattr(original, "code", None):
        return original.code
    if error.path is not None:  # raised while resolving (masked or not): the server's fault
        return "INTERNAL_SERVER_ERROR"
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if "invalid value" in error.message:
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def error_body(message: str, code: str) -> dict:
    """The body of a request refused before GraphQL runs (HTTP 400, 413...): one coded error."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def with_codes(response: dict, errors: list[GraphQLError] | None) -> dict:
    """The HTTP response body with `extensions.code` on each error."""
    for error, formatted in zip(errors or [], response.get("errors") or []):
        formatted.setdefault("extensions", {}).setdefault("code", error_code(error))
    return response
