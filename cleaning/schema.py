"""Arrow schemas: the published tables (a contract, see ``docs/schema.md``) and the work files.

Each column carries its meaning in the field metadata under ``description``, so a reader of the
Parquet files sees the documentation without this repository. Changing a published column in a
way that breaks readers (rename, type change, removal) bumps :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "2"
TS = pa.timestamp("us", tz="UTC")


def _field(name: str, type_: pa.DataType, nullable: bool, description: str) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


def _schema(table: str, description: str, *fields: pa.Field) -> pa.Schema:
    return pa.schema(
        fields,
        metadata={"table": table, "schema_version": SCHEMA_VERSION, "description": description},
    )


ARTICLES = _schema(
    "articles",
    "Published articles: one row per story per run date, duplicates removed.",
    _field(
        "id",
        pa.string(),
        False,
        "Stable article id: first 32 hex digits (128 bits) of SHA-256 of the URL's identity key "
        "(16 digits on nights published before ids grew; those are the first 16 of the new id).",
    ),
    _field(
        "url",
        pa.string(),
        False,
        "URL as the source published it and as requested: fragment dropped, host in IDNA form, "
        "spaces and non-ASCII percent-encoded.",
    ),
    _field(
        "final_url", pa.string(), True, "URL the page was served from after redirects; a file path for local pages."
    ),
    _field("source", pa.string(), False, "Name of the configured source that found the URL."),
    _field("title", pa.string(), True, "Headline as published on the page."),
    _field(
        "authors",
        pa.list_(pa.field("element", pa.string())),
        False,
        "Author names from the page metadata or byline; may be empty.",
    ),
    _field("published_at", TS, True, "First publication time, UTC; null when the page gives none."),
    _field("updated_at", TS, True, "Last update time stated by the page, UTC; null when absent."),
    _field("site_name", pa.string(), True, "Site name from the page metadata."),
    _field("language", pa.string(), True, "Language code from the page metadata (e.g. 'en')."),
    _field("canonical_url", pa.string(), True, "The page's own canonical URL, when it declares one."),
    _field("wire_agency", pa.string(), True, "News agency credited for the story (e.g. 'Reuters'), if any."),
    _field(
        "attribution", pa.string(), True, "The attribution line removed from the body, e.g. '(With Reuters inputs)'."
    ),
    _field("text", pa.string(), False, "Cleaned article body: paragraphs separated by a blank line."),
    _field(
        "word_count", pa.int32(), False, "Words in text: whitespace-separated, plus one per two CJK or Thai characters."
    ),
    _field("content_hash", pa.string(), False, "Hex hash of the normalized body; equal for exact duplicates."),
    _field("cluster_size", pa.int32(), False, "Number of copies of this story seen tonight, this one included."),
    _field("fetched_at", TS, False, "When the page was fetched, UTC."),
)

DUPLICATES = _schema(
    "duplicates",
    "Articles not published because they duplicate a published (canonical) article.",
    _field("id", pa.string(), False, "Id of the dropped article."),
    _field("url", pa.string(), False, "URL of the dropped article, as its source published it."),
    _field("final_url", pa.string(), True, "URL the dropped article was served from after redirects."),
    _field("source", pa.string(), False, "Source that found the dropped article."),
    _field("title", pa.string(), True, "Headline of the dropped article."),
    _field("canonical_id", pa.string(), False, "Id of the article kept for this story."),
    _field("canonical_url", pa.string(), False, "URL of the article kept for this story."),
    _field("canonical_run_date", pa.date32(), False, "Run date under which the canonical article is published."),
    _field("method", pa.string(), False, "'exact' (same normalized body) or 'near' (MinHash candidate, verified)."),
    _field(
        "jaccard", pa.float32(), True, "Jaccard similarity of the word-shingle sets with the canonical; 1 for exact."
    ),
    _field(
        "containment", pa.float32(), True, "Share of the shorter body's shingles found in the longer body; 1 for exact."
    ),
    _field(
        "measure",
        pa.string(),
        True,
        "What decided: 'exact', 'jaccard' or 'containment' (of the shingle sets), 'alignment' (the bodies' sentences "
        "in the same order), or 'chain' (joined through other copies, not close enough to the canonical directly).",
    ),
    _field(
        "score",
        pa.float32(),
        True,
        "Value of that measure: 1 for exact; for alignment, the share of the copy's words in sentences aligned "
        "with the canonical; for chain, the weakest link on the path to the canonical.",
    ),
)

FAILURES = _schema(
    "failures",
    "Every URL or page that did not become an article or a duplicate, with the stage and reason.",
    _field("url", pa.string(), False, "URL (or file path) that failed, as its source published it."),
    _field("source", pa.string(), False, "Source that found it."),
    _field("stage", pa.string(), False, "Stage that gave up: discover, fetch, clean or dedup."),
    _field("reason", pa.string(), False, "Short machine-readable reason, e.g. 'http_404', 'not_article'."),
    _field("detail", pa.string(), False, "Human-readable detail; may be empty."),
    _field("status", pa.int32(), True, "HTTP status when the failure came from a response."),
)

PUBLISHED = {"articles": ARTICLES, "duplicates": DUPLICATES, "failures": FAILURES}

_COUNT = pa.int32()
SOURCE_HEALTH = _schema(
    "source_health",
    "One row per configured source per published night: what the source yielded, how its bodies look, and the "
    "anomaly flags raised against its own recent nights (cleaning.health). Written after publish.",
    _field("source", pa.string(), False, "Name of the configured source."),
    _field("discovered", _COUNT, False, "Candidate URLs found in the source's feed, sitemap or list tonight."),
    _field("failed_discover", _COUNT, False, "Failures reading the source itself (feed, sitemap, list)."),
    _field("fetched", _COUNT, False, "Candidates fetched: discovered minus fetch failures."),
    _field("failed_fetch", _COUNT, False, "Candidates whose fetch failed."),
    _field("cleaned", _COUNT, False, "Pages that became articles and reached dedup (published plus duplicates)."),
    _field("rejected", _COUNT, False, "Fetched pages rejected by cleaning (not an article, too short, ...)."),
    _field("duplicates", _COUNT, False, "Cleaned articles dropped as exact or near duplicates."),
    _field("published", _COUNT, False, "Articles published tonight."),
    _field(
        "failures_by_reason",
        pa.map_(pa.string(), _COUNT),
        False,
        "Failures and rejections by 'stage:reason', e.g. 'fetch:http_403', 'clean:not_article'.",
    ),
    _field("yield_share", pa.float64(), True, "cleaned / discovered; null when nothing was discovered."),
    _field(
        "failure_share",
        pa.float64(),
        True,
        "(failed_discover + failed_fetch + rejected) / (discovered + failed_discover); null when nothing was tried.",
    ),
    _field("body_words_median", pa.float64(), True, "Median word count of the source's cleaned bodies."),
    _field("body_words_p25", pa.float64(), True, "25th percentile of the body word counts (spread, with p75)."),
    _field("body_words_p75", pa.float64(), True, "75th percentile of the body word counts."),
    _field(
        "furniture_share",
        pa.float64(),
        True,
        "Share of the source's extracted bodies holding at least one line learned as site furniture tonight; "
        "null when the night's work files are gone.",
    ),
    _field("wire_share", pa.float64(), True, "Share of the source's cleaned bodies credited to a wire agency."),
    _field(
        "wire_agencies", pa.map_(pa.string(), _COUNT), False, "Cleaned bodies per credited wire agency, e.g. Reuters."
    ),
    _field(
        "fetch_seconds_per_page",
        pa.float64(),
        True,
        "Fetch time per page of the source: each fetch shard's wall time spread evenly over its pages "
        "(politeness delays included); null when nothing was fetched.",
    ),
    _field(
        "flags",
        pa.list_(pa.field("element", pa.struct([("flag", pa.string()), ("evidence", pa.string())]))),
        False,
        "Anomaly flags against the source's recent nights: flag name and the evidence, in words; empty when healthy.",
    ),
)

# Tables derived from the published ones after a night publishes; documented in docs/schema.md too.
DERIVED = {"source_health": SOURCE_HEALTH}

# Work files, passed between tasks of one run; not a contract.
CANDIDATES = pa.schema(
    [
        ("url", pa.string()),
        ("source", pa.string()),
        ("found_in", pa.string()),
        ("title", pa.string()),
        ("published_at", TS),
    ]
)

CAPTURES = pa.schema(
    [
        ("url", pa.string()),
        ("source", pa.string()),
        ("final_url", pa.string()),
        ("status", pa.int32()),
        ("content_type", pa.string()),
        ("fetched_at", TS),
        ("body", pa.large_binary()),
    ]
)

CLEANED = pa.schema([f for f in ARTICLES if f.name not in ("word_count", "content_hash", "cluster_size")])
