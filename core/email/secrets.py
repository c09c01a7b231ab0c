"""Secret links in stored emails. A link that is a customer's credential (an action link, a
portal link to confirm an address or set a password) is never stored in an email's body: the
outbox keeps a reference in its place, the worker puts the link in when it sends (core.email.delivery),
and staff reading a body or a preview see it masked (`mask`).

A reference is the marker `{{secret:<sealed>}}`, sealed with the secret key (core.security.sealed), so
nobody without the key can read one or make one up (a customer typing a marker into their name
gets no link of anyone's). Two kinds:

- `sealed_link(url, settings)`: a link whose token is random (minted once, only its hash kept): the URL
  itself is sealed, so every send, retry and resend of the email carries the same link;
- `derived_link(kind, reference, settings)`: a link whose token is derived (HMAC of its object): only the
  plugin's reference is kept (e.g. the appointment id); the function the plugin registered for
  `kind` (the `register_secret_links` hook) makes the URL again when the email is sent.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from core.security.sealed import CannotUnseal, seal, unseal

if TYPE_CHECKING:
    from core.plugins.host import PluginHost

MARKER = re.compile(r"\{\{secret:([A-Za-z0-9_=-]{1,4096})\}\}")
MASK = "[link hidden: sent to the customer only]"
PURPOSE = "email-link"
log = logging.getLogger("agendum.email")


class UnreadableLink(Exception):
    """A reference in a body cannot become its link (its secret key was dropped, it was changed,
    or the plugin that made it no longer knows it): the email cannot be sent as queued."""


def sealed_link(url: str, settings) -> str:
    """The reference to put in an email body in place of `url` (a link with a random token),
    sealed with the app's secret key (from its `settings`)."""
    return _marker({"url": url}, settings)


def derived_link(kind: str, reference: str, settings) -> str:
    """The reference to put in an email body for a derived link, sealed with the app's secret key
    (from its `settings`): the function registered for `kind` (hook `register_secret_links`)
    makes its URL from `reference` at send time."""
    return _marker({"kind": kind, "ref": reference}, settings)


def _marker(payload: dict, settings) -> str:
    sealed = seal(settings, json.dumps(payload, separators=(",", ":")), PURPOSE)
    return "{{secret:" + sealed + "}}"


def _payload(sealed: str, settings) -> dict:
    try:
        payload = json.loads(unseal(settings, sealed, PURPOSE))
    except CannotUnseal:
        raise UnreadableLink(
            "a link in it can no longer be read (was AGENDUM_SECRET_KEY changed without keeping the old key "
            "in AGENDUM_SECRET_KEY_FALLBACKS?)"
        ) from None
    if not isinstance(payload, dict):
        raise UnreadableLink("a link in it is not one Agendum made")
    return payload


def derived_in(body: str, settings) -> list[tuple[str, str]]:
    """(kind, reference) of every derived link in a body readable with the app's `settings`, e.g.
    to see whether one is there."""
    found = []
    for sealed in MARKER.findall(body):
        try:
            payload = _payload(sealed, settings)
        except UnreadableLink:
            continue
        if "kind" in payload:
            found.append((str(payload["kind"]), str(payload.get("ref", ""))))
    return found


def mask(text: str) -> str:
    """A body or preview as staff may read it: every secret link hidden."""
    return MARKER.sub(MASK, text)


async def links_for(host: PluginHost, texts: Iterable[str]) -> dict[str, str | UnreadableLink]:
    """The link of every reference in `texts` (e.g. a batch of emails about to be sent), by its
    sealed text, or the `UnreadableLink` saying why there is none: sealed URLs are opened, derived
    ones made again with one call per kind for all of them."""
    links: dict[str, str | UnreadableLink] = {}
    derived: dict[str, dict[str, list[str]]] = {}  # kind -> reference -> the sealed texts naming it
    for sealed in dict.fromkeys(m for text in texts if "{{secret:" in text for m in MARKER.findall(text)):
        try:
            payload = _payload(sealed, host.settings)
        except UnreadableLink as unreadable:
            links[sealed] = unreadable
            continue
        if "url" in payload:
            links[sealed] = str(payload["url"])
        else:
            derived.setdefault(str(payload.get("kind")), {}).setdefault(str(payload.get("ref")), []).append(sealed)
    for kind, references in derived.items():
        why = "leads nowhere any more"
        try:
            urls = await host.secret_link_urls(kind, list(references))
        except Exception as error:  # noqa: BLE001 - a plugin's failure fails the emails of its links only
            log.exception("the %s links of emails about to be sent could not be made", kind)
            urls, why = {}, f"could not be made ({type(error).__name__})"
        for reference, sealed_texts in references.items():
            url = urls.get(reference)
            for sealed in sealed_texts:
                links[sealed] = url if url is not None else UnreadableLink(f"its {kind} link ({reference}) {why}")
    return links


def filled(text: str, links: Mapping[str, str | UnreadableLink]) -> str:
    """`text` as it is sent: every reference replaced by its link from `links_for`;
    `UnreadableLink` when one has none (the email then fails visibly rather than go out without it)."""

    def link(match: re.Match) -> str:
        found = links.get(match.group(1)) or UnreadableLink("a link in it was not resolved")
        if isinstance(found, UnreadableLink):
            raise found
        return found

    return MARKER.sub(link, text) if "{{secret:" in text else text
