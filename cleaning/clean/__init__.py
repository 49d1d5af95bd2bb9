"""Clean stage: raw captures in, articles out (see :mod:`cleaning.clean.page` for the rules).

``clean_captures`` works on one shard and may use a process pool, since extraction is CPU-bound.
Site furniture is learned across all shards of the night (``learn_furniture``) and removed
afterwards (``strip_furniture``), because one shard never sees a whole site.
"""

from __future__ import annotations

import signal
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from cleaning.clean.furniture import learn_site_furniture, strip_learned
from cleaning.clean.page import CleanPage, Rejected, clean_html
from cleaning.config import CleanConfig
from cleaning.models import Article, Capture, Failure, article_id
from cleaning.urls import url_key

__all__ = ["clean_one", "clean_captures", "learn_furniture", "strip_furniture", "clean_html", "Rejected", "CleanPage"]


class PageTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`PageTimeout` in this thread after ``seconds`` (main thread only: elsewhere
    signals cannot be delivered, and the page runs without a limit)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise PageTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _clean_one(args) -> tuple[CleanPage | None, str | None, str | None]:
    body, url, content_type, settings = args
    try:
        if len(body) > settings.max_page_bytes:
            raise Rejected("too_large", f"{len(body)} bytes, over {settings.max_page_bytes}")
        with time_limit(settings.page_timeout_seconds):
            return clean_html(body, url, content_type, settings), None, None
    except Rejected as exc:
        return None, exc.reason, exc.detail
    except PageTimeout:
        return None, "timeout", f"extraction took over {settings.page_timeout_seconds}s"
    except RecursionError:
        return None, "too_deep", "markup nested too deeply to parse"
    except Exception as exc:  # one broken page must not fail the shard
        return None, "extract_error", f"{type(exc).__name__}: {exc}"


def clean_one(body: bytes, url: str | None, content_type: str | None, settings: CleanConfig):
    """Clean one page under the size and time limits: ``(CleanPage | None, reason, detail)``."""
    return _clean_one((body, url, content_type, settings))


def _article(capture: Capture, page: CleanPage) -> Article:
    """The article row: ``url`` as the source named it, its id from that URL's identity key.

    The page's canonical link is kept as a column but never becomes the id: distinct pages that
    name one canonical URL (a template error, saved copies) must stay distinct rows, and the
    dedup stage decides whether they are one story.
    """
    return Article(
        id=article_id(url_key(capture.url)),
        url=capture.url,
        final_url=capture.final_url,
        source=capture.source,
        title=page.meta.title,
        text=page.text,
        published_at=page.meta.published_at,
        updated_at=page.meta.updated_at,
        authors=page.meta.authors,
        site_name=page.meta.site_name,
        language=page.meta.language,
        canonical_url=page.meta.canonical_url,
        wire_agency=page.wire_agency,
        attribution=page.attribution,
        fetched_at=capture.fetched_at,
    )


def clean_captures(captures: list[Capture], settings: CleanConfig, workers: int = 1):
    """Returns ``(articles, failures, counts)``, the first two in capture order.

    ``counts`` says how the articles were found: ``extraction_<step>`` per step of the extraction
    chain, and ``pages_with_undecodable_bytes`` for pages whose declared charset was kept while a
    few bytes were replaced."""
    jobs = [
        (c.body, c.final_url if c.final_url.startswith("http") else None, c.content_type, settings) for c in captures
    ]
    if workers > 1 and len(jobs) > 8:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_clean_one, jobs, chunksize=8))
    else:
        results = [_clean_one(job) for job in jobs]
    articles, failures, counts = [], [], Counter()
    for capture, (page, reason, detail) in zip(captures, results):
        if page is None:
            failures.append(Failure(capture.url, capture.source, "clean", reason, detail or "", capture.status))
        else:
            articles.append(_article(capture, page))
            counts[f"extraction_{page.extraction}"] += 1
            counts["pages_with_undecodable_bytes"] += page.replaced_chars > 0
    return articles, failures, counts


def learn_furniture(pages: list[tuple[str, str]], settings: CleanConfig) -> dict[str, set[str]]:
    """Per source, the line keys that recur on many of its pages tonight."""
    return learn_site_furniture(pages, settings.furniture_min_pages, settings.furniture_min_share)


def strip_furniture(text: str, keys: set[str]) -> tuple[str, int]:
    """Remove learned furniture lines from one body (paragraphs are separated by blank lines)."""
    return strip_learned(text, keys, separator="\n\n")
