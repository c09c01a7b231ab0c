"""Safe retries of mutations (Stripe's `Idempotency-Key` convention): the first request with a
key is recorded in the transaction of its effect, with its answer; the same principal sending the
same key and body again within 24 hours gets that answer back and changes nothing. A key belongs
to its principal (a staff user, a browser session, a link token); the same key with another body
is refused. Call `claim` and `record` inside one `core.unit_of_work.unit_of_work()` with the
mutation: a request that committed while its connection dropped is recognised on retry, and one
that rolled back left no key behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import clock
from core.models import IdempotentRequest

KEEP = dt.timedelta(hours=24)
MAX_KEY = 255


class KeyReused(Exception):
    """The key was used by this principal for another request (another body)."""


class InProgress(Exception):
    """Another request with this key is still running (and could not be waited for)."""


@dataclass(frozen=True)
class Answer:
    """What the first request with a key answered: replay it."""

    status_code: int
    body: str


def request_hash(query: Any, variables: Any, operation_name: Any) -> str:
    """What makes two requests the same: the document, the variables and the operation name."""
    canonical = json.dumps([query, variables or {}, operation_name], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def valid_key(key: str) -> bool:
    """1 to 255 printable ASCII characters (UUIDs, ULIDs, random strings)."""
    return 0 < len(key) <= MAX_KEY and all(" " < ch <= "~" for ch in key)


async def claim(principal: str, key: str, digest: str) -> IdempotentRequest | Answer:
    """Record the key for this request, or the earlier answer to replay. On PostgreSQL a request
    still running with the same key holds its row: this waits until it commits (then replays)
    or rolls back (then goes on). `KeyReused` for the same key with another body."""
    now = clock.now()
    await IdempotentRequest.filter(principal=principal, key=key, expires_at__lte=now).delete()
    await forget_expired(limit=100)  # every use of keys clears a share of the expired answers
    for _ in range(2):
        found = await IdempotentRequest.get_or_none(principal=principal, key=key)
        if found is not None:
            if found.request_hash != digest:
                raise KeyReused()
            return Answer(found.status_code, found.response)
        try:
            async with in_transaction():  # a savepoint: a lost race leaves the outer transaction usable
                return await IdempotentRequest.create(
                    principal=principal, key=key, request_hash=digest, expires_at=now + KEEP, status_code=0
                )
        except IntegrityError:
            continue  # the other request committed first: read its answer
    raise InProgress()  # the row came and went between our reads: its request is still settling


async def record(row: IdempotentRequest, status_code: int, body: str) -> None:
    """Keep the answer of the request that claimed `row`, in its transaction."""
    row.status_code, row.response = status_code, body
    await row.save(update_fields=["status_code", "response"])


async def forget_expired(limit: int = 1000) -> int:
    """Delete up to `limit` answers kept longer than 24 hours (they are personal data); how many."""
    ids = await IdempotentRequest.filter(expires_at__lte=clock.now()).limit(limit).values_list("id", flat=True)
    return await IdempotentRequest.filter(id__in=list(ids)).delete() if ids else 0
