"""Plain text as HTML with its web addresses as links (the `linkify` filter of every page)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_URL = re.compile(r"""https?://[^\s<>"'`]+""")
_TRAILING = ".,;:!?)]}'\""


def linkify(text: str) -> Markup:
    """Plain text as HTML: everything escaped, every http(s) URL a link that opens in a new tab."""
    out, last = [], 0
    for match in _URL.finditer(text):
        stripped = _trim(match.group(0))
        end = match.start() + len(stripped)
        out.append(escape(text[last : match.start()]))
        out.append(Markup('<a href="{0}" rel="noopener noreferrer" target="_blank">{0}</a>').format(stripped))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _trim(url: str) -> str:
    """A URL without the punctuation that ends the sentence around it (a closing parenthesis
    only when it has no opening one in the URL)."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url
