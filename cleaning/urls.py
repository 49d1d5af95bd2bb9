"""Two views of one URL: the one we request, and the key we recognise it by.

``request_url`` is what the fetcher sends. Servers are free to treat every byte of a path and
query as meaningful (``story.asp?NewsID=1&Cr=x`` and ``story.asp?Cr=x&NewsID=1`` may be different
resources to an old CGI script, and ``?/base/news/1199.xml`` is not ``?%2Fbase%2Fnews%2F1199.xml=``),
so it changes only what no server ever sees or what a browser would change too: the fragment is
dropped, the host is written in IDNA form, and characters that cannot appear in an HTTP request
line (spaces, non-ASCII) are percent-encoded as UTF-8. Nothing is re-ordered, decoded or removed.

``url_key`` is identity: "fetched before", one story named by two sources, article ids. It may
fold what cannot change the resource (scheme and host case, a default port, an empty path, an
empty query, click-tracking parameters), because a wrong merge here only ever skips a copy; it
is never sent to a server.

Local paths and ``file:`` URLs pass through both unchanged.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

# Query parameters that only track the click and never select content.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src", "cmpid", "ocid", "_ga"}
)
TRACKING_PREFIXES = ("utm_", "at_", "itm_")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Everything RFC 3986 allows in a path or query, plus "%" so existing escapes stay as written.
_KEEP = "!#$%&'()*+,-./:;=?@[]~_"


def _web_parts(url: str):
    """``urlsplit`` of an http(s) URL, or None for paths, ``file:`` and other schemes."""
    parts = urlsplit(url.strip())
    return parts if parts.scheme.lower() in DEFAULT_PORTS else None


def _host(parts) -> str:
    """The host in lower-case IDNA form; IPv6 literals keep their brackets."""
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        return f"[{host.lower()}]"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"host cannot be written in IDNA form: {host!r} ({exc})") from None
    return host.lower()


def _netloc(parts, host: str, drop_default_port: bool) -> str:
    port = parts.port  # raises ValueError for a port out of range
    if port is not None and not (drop_default_port and port == DEFAULT_PORTS[parts.scheme.lower()]):
        host = f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password is not None else "")
        host = f"{credentials}@{host}"
    return host


def _printable(text: str) -> str:
    """Percent-encode what may not appear in a request line; leave everything else as written."""
    if text.isascii() and " " not in text and not any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        return text
    return quote(text, safe=_KEEP)


def request_url(url: str) -> str:
    """The URL to request: as published, minus the fragment, host in IDNA, unsendable bytes escaped."""
    parts = _web_parts(url)
    if parts is None:
        return url.strip()
    netloc = _netloc(parts, _host(parts), drop_default_port=False)
    return urlunsplit((parts.scheme.lower(), netloc, _printable(parts.path), _printable(parts.query), ""))


def _is_tracking(param: str) -> bool:
    name = param.split("=", 1)[0].lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def url_key(url: str) -> str:
    """The identity of a URL: :func:`request_url` with the host folded and click trackers removed.

    The remaining query keeps its order, spelling and escapes, since those may select content.
    """
    parts = _web_parts(url)
    if parts is None:
        return url.strip()
    scheme = parts.scheme.lower()
    netloc = _netloc(parts, _host(parts), drop_default_port=True)
    query = "&".join(p for p in _printable(parts.query).split("&") if p and not _is_tracking(p))
    return urlunsplit((scheme, netloc, _printable(parts.path) or "/", query, ""))


normalize_url = url_key  # the identity key under its former name (kept for WARC lookups)
