"""Render a feed's items as RSS 2.0, Atom 1.0 and JSON Feed 1.1: pure and byte-stable.

This package is the only user of feedgen and lxml. The same inputs always give the same bytes:
no "now" (the channel/feed dates come from the newest item), no locale, no dict-order surprises.
feedgen 1.0.0 writes the skeleton of both XML documents, through its public API only; what it
gets wrong or lacks is written by small feedgen extensions, which receive feedgen's lxml
elements while the document is being built.

A :class:`~feeds.types.Page` says which document is rendered: the current (subscription)
document or an RFC 5005 archive page, with its ``prev-archive``/``next-archive`` neighbours and
a ttl. No document carries a stylesheet: a browser opening a feed gets its HTML view
(``html``: rendered with Jinja2 in the site's language, not with feedgen).

Modules, each with one job:

- ``clean``: the input guard, every published string made XML-safe, every URL a valid URI and
  item ids absolute IRIs;
- ``common``: what every format says the same way (titles, item HTML, links, images, URLs);
- ``tree``: our feedgen extensions' base and the lxml elements they add;
- ``marks``: sentinel comments that find the items in a serialized XML document;
- ``rss``, ``atom``, ``jsonfeed``: one format each, rendered as head, items and tail;
- ``document``: one document in every format (``render``, ``render_all``);
- ``incremental``: ``Renderer``, which renders only the items it has not seen and splices
  the remembered bytes of the others;
- ``budget``: ``fit``, a feed's byte budget: a document over it leaves out its oldest items;
- ``html``: ``render_view``, the HTML page of a feed for people (templates/view.html).
"""

from __future__ import annotations

from feeds.render.budget import fit
from feeds.render.common import FORMATS, GENERATOR, document_url, feed_url, syndication
from feeds.render.document import render, render_all
from feeds.render.incremental import Renderer

__all__ = [
    "FORMATS",
    "GENERATOR",
    "Renderer",
    "document_url",
    "feed_url",
    "fit",
    "render",
    "render_all",
    "syndication",
]
