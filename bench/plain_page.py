"""The baseline of bench/action_links.py: a plain Starlette route answering a fixed HTML page of
PLAIN_PAGE_BYTES bytes (the size of the action link page), with no database or templates."""

import os

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

BODY = "<!doctype html><title>page</title>" + "x" * int(os.environ.get("PLAIN_PAGE_BYTES", "5000"))


async def page(request):
    return HTMLResponse(BODY)


app = Starlette(routes=[Route("/page", page)])
