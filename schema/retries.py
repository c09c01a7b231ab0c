"""Safe retries on /graphql: a mutation sent with an `Idempotency-Key` header runs in one
transaction with the record of its key and answer (core.idempotency), so sending it again with
the same key and body returns the first answer (`Idempotent-Replayed: true`) and changes nothing.
The key belongs to the request's principal: the signed-in staff user, else the browser's session
cookie, else the link token the mutation names (its `token` argument). Queries ignore the header."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, StringValueNode, VariableNode, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise.exceptions import OperationalError

from core import idempotency
from core.security.access import Staff
from core.security.tokens import token_hash
from core.unit_of_work import unit_of_work
from schema.error_codes import error_body
from web.sessions import read_session

REPLAYED = "Idempotent-Replayed"


class _Failed(Exception):
    """The mutation failed unexpectedly: roll its effects and its key back, answer as it did."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _refusal(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse(error_body(message, code), status_code=status)


def _mutation(data: Any) -> OperationDefinitionNode | None:
    """The mutation a request body would run, or None (a query, or not a readable request)."""
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return None
    try:
        document = parse(data["query"])
    except GraphQLError:
        return None
    name = data.get("operationName")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if name is None or (o.name and o.name.value == name)]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.MUTATION:
        return None
    return chosen[0]


def _link_token(operation: OperationDefinitionNode, variables: Any) -> str | None:
    """The `token` argument of the mutation's first root field that has one."""
    for selection in operation.selection_set.selections:
        for argument in getattr(selection, "arguments", None) or ():
            if argument.name.value != "token":
                continue
            value = argument.value
            if isinstance(value, StringValueNode):
                return value.value
            if isinstance(value, VariableNode) and isinstance(variables, dict):
                found = variables.get(value.name.value)
                return found if isinstance(found, str) else None
    return None


def principal_of(
    request: Request, staff: Staff | None, operation: OperationDefinitionNode, variables: Any
) -> str | None:
    """Who a key belongs to: `staff:<user id>`, `session:<hash>` or `link:<hash>`; None for nobody."""
    if staff is not None:
        return f"staff:{staff.user_id}"
    session = read_session(request)
    if session is not None:
        return f"session:{token_hash(session.id)}"
    token = _link_token(operation, variables)
    return f"link:{token_hash(token)}" if token else None


async def once(request: Request, key: str, staff: Staff | None, run: Callable[[], Awaitable[Response]]) -> Response:
    """Answer a POST carrying `Idempotency-Key: key`: replay, refuse, or `run` it recorded."""
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError):
        return await run()  # strawberry refuses it, as without the header
    operation = _mutation(data)
    if operation is None:
        return await run()
    if not idempotency.valid_key(key):
        return _refusal(
            400, f"An Idempotency-Key is 1 to {idempotency.MAX_KEY} printable ASCII characters.", "BAD_REQUEST"
        )
    principal = principal_of(request, staff, operation, data.get("variables"))
    if principal is None:
        return _refusal(
            400,
            "An Idempotency-Key needs a signed-in caller (a bearer token, a session or a link token).",
            "IDEMPOTENCY_KEY_NEEDS_SIGN_IN",
        )
    digest = idempotency.request_hash(data.get("query"), data.get("variables"), data.get("operationName"))
    try:
        async with unit_of_work():
            claimed = await idempotency.claim(principal, key, digest)
            if isinstance(claimed, idempotency.Answer):
                return Response(
                    claimed.body,
                    status_code=claimed.status_code,
                    media_type="application/json",
                    headers={REPLAYED: "true"},
                )
            response = await run()
            body = bytes(response.body).decode()
            if response.status_code >= 500 or '"INTERNAL_SERVER_ERROR"' in body:
                raise _Failed(response)
            await idempotency.record(claimed, response.status_code, body)
    except _Failed as failed:
        return failed.response
    except idempotency.KeyReused:
        return _refusal(
            422,
            "This Idempotency-Key was used for another request; use a new key for a new request.",
            "IDEMPOTENCY_KEY_REUSED",
        )
    except (idempotency.InProgress, OperationalError) as error:
        if isinstance(error, OperationalError) and "locked" not in str(error):
            raise
        # SQLite: the first request holds the database's write lock for longer than a wait.
        return _refusal(
            409, "A request with this Idempotency-Key is still running; retry in a moment.", "REQUEST_IN_PROGRESS"
        )
    return response
