"""PURE: an article page's main text (trafilatura: the page without menus, footers and
comments) and the hash its raw bytes are known by."""

from __future__ import annotations

import hashlib


def main_text(html: bytes, url: str | None = None) -> str:
    """The page's main text, paragraphs on their own lines; "" when none is found. Page
    bytes are untrusted: whatever the extractor makes of them, this never raises."""
    if not html.strip():
        return ""
    # imported here: about 0.25 s of imports that a monitor without pages never needs
    import trafilatura

    try:
        text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True)
    except Exception:  # an extractor bug on a hostile page must not fail the capture
        return ""
    return text or ""


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
