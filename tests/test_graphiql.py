"""GraphiQL works offline: the page on GET /graphql references only this app's assets, under a
Content-Security-Policy with a per-response nonce; every asset is served with its content type and
long caching; in a real browser cut off from everything but the test server, GraphiQL renders,
runs a query with a bearer token from its Headers tab, and breaks no CSP rule."""

from __future__ import annotations

import hashlib
import json
import re
from base64 import b64encode
from html.parser import HTMLParser
from pathlib import Path

from web.graphiql import FOLDER

HTML = {"Accept": "text/html"}
CONTENT_TYPES = {"script": "text/javascript", "stylesheet": "text/css"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)", re.IGNORECASE)
SELF_ONLY = {"'self'", "'none'"}


class References(HTMLParser):
    """Every URL an HTML page refers to (src, href, url() in its <style>s), what loads it, and the
    nonce of each inline <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.assets: list[tuple[str, str, str | None]] = []  # (kind, url, integrity)
        self.inline: list[tuple[str, str | None]] = []  # (tag, nonce)
        self.styles: list[str] = []
        self._tag: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "action", "data", "poster", "srcset"):
            if attrs.get(name) is not None:
                self.urls.append(attrs[name])
        self.urls += CSS_URL.findall(attrs.get("style") or "")
        if tag == "script" and attrs.get("src"):
            self.assets.append(("script", attrs["src"], attrs.get("integrity")))
        elif tag == "link" and attrs.get("rel") == "stylesheet":
            self.assets.append(("stylesheet", attrs["href"], attrs.get("integrity")))
        elif tag in ("script", "style"):
            self.inline.append((tag, attrs.get("nonce")))
        self._tag = tag

    def handle_data(self, data):
        if self._tag == "style":
            self.styles.append(data)
            self.urls += CSS_URL.findall(data)

    def handle_endtag(self, tag):
        self._tag = None


def parse(html: str) -> References:
    """The page's references."""
    references = References()
    references.feed(html)
    return references


def csp(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: sources}."""
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def local(url: str) -> bool:
    """Whether `url` stays on the page's own origin (or is inline data)."""
    return url.startswith("data:") or (url.startswith("/") and not url.startswith("//"))


async def test_the_page_references_no_external_url_and_allows_only_self_and_its_nonce(api):
    page = await api.client.get("/graphql", headers=HTML)
    again = await api.client.get("/graphql", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"  # its nonce is for this response only
    references = parse(page.text)
    assert [kind for kind, _, _ in references.assets].count("script") >= 3  # React, ReactDOM, GraphiQL
    assert references.urls and all(local(url) for url in references.urls), references.urls
    assert not re.search(r"https?://|unpkg", page.text)  # not even in the inline script

    policy = csp(page.headers["content-security-policy"])
    nonce = next(source for source in policy["script-src"] if source.startswith("'nonce-"))[len("'nonce-") : -1]
    assert len(nonce) >= 16 and nonce not in again.text  # one per response
    assert references.inline == [("style", nonce), ("script", nonce)]  # every inline element carries it
    assert policy["default-src"] == ["'none'"]
    assert set(policy["script-src"]) == {"'self'", f"'nonce-{nonce}'"}
    for directive, sources in policy.items():
        others = set(sources) - SELF_ONLY - {f"'nonce-{nonce}'"}
        if directive in ("img-src", "font-src"):
            others -= {"data:"}  # GraphiQL's stylesheet embeds its fonts and icons
        if directive == "style-src":  # GraphiQL's own scroll lock: a hash of fixed text, no URL
            assert all(re.fullmatch(r"'sha256-[A-Za-z0-9+/]+=*'", source) for source in others), others
            others = set()
        assert not others, (directive, others)
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]


async def test_every_asset_is_served_with_its_type_integrity_and_long_caching(api):
    references = parse((await api.client.get("/graphql", headers=HTML)).text)
    assert {kind for kind, _, _ in references.assets} == {"script", "stylesheet"}
    for kind, url, integrity in references.assets:
        assert url.startswith("/graphql/assets/"), url  # the app's own route
        asset = await api.client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] == CONTENT_TYPES[kind], url
        assert asset.headers["x-content-type-options"] == "nosniff"
        cache = asset.headers["cache-control"]
        assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache)[1]) >= 365 * 24 * 3600, url
        assert integrity == "sha384-" + b64encode(hashlib.sha384(asset.content).digest()).decode(), url
        if kind == "stylesheet":  # a stylesheet loads only inline data (fonts, icons) or this origin
            urls = CSS_URL.findall(asset.text)
            assert all(local(found) for found in urls), [found[:60] for found in urls if not local(found)]
    for missing in (
        "/graphql/assets/graphiql-3.8.3/LICENSE",
        "/graphql/assets/nope.js",
        "/graphql/assets/../../app.py",
        "/graphql/assets/%2e%2e/%2e%2e/app.py",
    ):
        assert (await api.client.get(missing)).status_code == 404, missing


def test_the_vendored_files_are_the_ones_the_readme_names_and_ship_in_the_wheel():
    readme = (FOLDER / "README.md").read_text()
    listed = dict(re.findall(r"^\| ([\w.-]+/[\w.-]+) \| [^|]+ \| ([0-9a-f]{64}) \|$", readme, re.MULTILINE))
    files = {path.relative_to(FOLDER).as_posix() for path in FOLDER.rglob("*") if path.is_file()} - {"README.md"}
    assert set(listed) == files
    for name, sha256 in listed.items():
        assert hashlib.sha256((FOLDER / name).read_bytes()).hexdigest() == sha256, name
    for folder in {name.split("/")[0] for name in files}:
        assert (FOLDER / folder / "LICENSE").is_file(), folder
    # A non-editable install has them: pyproject's package data for `web` covers every file.
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    patterns = json.loads(re.search(r"^web = (\[.*\])$", pyproject, re.MULTILINE)[1])
    web = FOLDER.parent.parent
    shipped = {path.relative_to(FOLDER).as_posix() for pattern in patterns for path in web.glob(pattern)}
    assert shipped == files | {"README.md"}


async def test_graphiql_runs_a_query_in_a_browser_cut_off_from_the_internet(api, browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    blocked = []

    async def only_the_test_server(route):
        if route.request.url.startswith(api.url + "/"):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_the_test_server)
    page = await context.new_page()
    console, errors = [], []
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        assert (await page.goto(f"{api.url}/graphql")).status == 200
        editor = page.locator(".graphiql-query-editor .CodeMirror")
        await editor.wait_for(timeout=30_000)
        await editor.click()
        await page.keyboard.press("Control+A")
        await page.keyboard.press("Delete")
        await page.keyboard.type("{ __typename }")
        await page.click(".graphiql-execute-button")
        await page.locator(".graphiql-response", has_text='"__typename": "Query"').wait_for(timeout=30_000)

        # The README's way to sign in: the Headers tab takes {"Authorization": "Bearer <token>"}.
        await editor.click()
        await page.keyboard.press("Control+A")
        await page.keyboard.press("Delete")
        await page.keyboard.type("{ staffUsers { __typename")  # PermissionDenied without a token
        await page.keyboard.press("Escape")  # close the completion list
        await page.get_by_text("Headers", exact=True).click()
        headers = page.locator(".graphiql-editor-tool .CodeMirror").last
        await headers.click()
        await page.keyboard.type(f'{{"Authorization": "Bearer {api.owner_token}"')
        await page.click(".graphiql-execute-button")
        await page.locator(".graphiql-response", has_text='"StaffUserConnection"').wait_for(timeout=30_000)

        # A dialog (GraphiQL's settings) adds GraphiQL's own <style>: still no CSP refusal.
        await page.click("button[aria-label='Open settings dialog']")
        await page.get_by_role("dialog").wait_for()
        await page.keyboard.press("Escape")
        await page.click("button[aria-label='Show GraphiQL Explorer']")
        await page.get_by_text("Explorer", exact=True).wait_for()
    finally:
        await context.close()
    assert not blocked, blocked
    assert not errors, errors
    assert not [text for text in console if "Content Security Policy" in text or "Refused" in text], console
