"""The records that flow between stages, and the stable id every article carries.

Stages exchange these as rows of Parquet files (see :mod:`cleaning.schema`); the dataclasses are
the in-memory shape of one row, so a stage can be read without knowing Arrow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

ID_BITS = 128  # 32 hex digits


def article_id(key: str) -> str:
    """A stable 32-hex-digit id derived from a URL's identity key (:func:`cleaning.urls.url_key`):
    the first 128 bits of its SHA-256.

    The id depends on the key alone, so a URL gets the same id on every night, in every shard and
    whatever the number of shards (dedup recognises a URL fetched again by it). Collisions: among
    ``n`` distinct keys the chance that any two share an id is at most ``n^2 / 2^(bits+1)`` (the
    birthday bound): about 1.5e-21 for 10^9 keys at 128 bits, where the 64-bit ids used before
    (16 hex digits, the first half of these) gave about 2.7% at 10^9 and 0.03% at 10^8.

    Ids of earlier nights keep their 16 digits; they are plain strings, and each is the first 16
    digits of the id the same URL gets now.
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[: ID_BITS // 4]


@dataclass
class Candidate:
    """A URL that discovery found and fetch should try."""

    url: str
    source: str
    found_in: str  # the feed, list or folder that named it
    title: str | None = None
    published_at: datetime | None = None


@dataclass
class Capture:
    """What one fetch returned: the raw bytes, kept so a night can be cleaned again offline."""

    url: str
    source: str
    final_url: str
    status: int
    content_type: str | None
    fetched_at: datetime
    body: bytes


@dataclass
class Failure:
    """A URL or page that did not make it, and why. Failures never stop a run."""

    url: str
    source: str
    stage: str  # discover | fetch | clean | dedup | publish
    reason: str  # short machine-readable reason, e.g. "http_404", "not_article"
    detail: str = ""
    status: int | None = None


@dataclass
class Article:
    """One cleaned article, as published in the ``articles`` table."""

    id: str
    url: str  # as the source published it
    source: str
    title: str | None
    text: str
    final_url: str | None = None  # after redirects
    published_at: datetime | None = None
    updated_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    site_name: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    wire_agency: str | None = None
    attribution: str | None = None
    fetched_at: datetime | None = None
