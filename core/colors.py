"""Colours of branded pages: `#rrggbb` values, and a text colour that reads on a background
(WCAG 2 contrast)."""

from __future__ import annotations

import re

from core.errors import ValidationCode, ValidationFailed

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$", re.ASCII)
DEFAULT_BACKGROUND = "#ffffff"
DARK_TEXT = "#000000"
LIGHT_TEXT = "#ffffff"


def clean_color(field: str, value: str) -> str:
    """A CSS colour written `#rrggbb`, returned lower-case; anything else is `ValidationFailed`."""
    if not isinstance(value, str) or not COLOR_RE.match(value.strip()):
        raise ValidationFailed(
            field, f"{value!r} is not a colour written as #rrggbb, e.g. #1a2b3c.", ValidationCode.INVALID_FORMAT
        )
    return value.strip().lower()


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of a `#rrggbb` colour, 0 (black) to 1 (white)."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_color_for(background: str) -> str:
    """Black or white, whichever contrasts more with `background` (always at least 4.5:1, WCAG AA)."""
    if contrast_ratio(background, DARK_TEXT) >= contrast_ratio(background, LIGHT_TEXT):
        return DARK_TEXT
    return LIGHT_TEXT
