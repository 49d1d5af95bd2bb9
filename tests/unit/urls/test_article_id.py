"""Article ids: 128 bits from the URL's identity key, the same on every night and in every shard."""

from __future__ import annotations

import hashlib
import re

from cleaning.models import ID_BITS, article_id
from cleaning.urls import url_key


def test_ids_are_128_bit_hex_from_the_key_alone():
    key = url_key("https://Example.com/news/1?utm_source=rss")
    assert ID_BITS == 128
    assert re.fullmatch(r"[0-9a-f]{32}", article_id(key))
    assert article_id(key) == hashlib.sha256(key.encode()).hexdigest()[:32]
    # a function of the key alone (no night, shard or salt): tracking variants share it
    assert article_id(url_key("https://example.com/news/1")) == article_id(key)


def test_old_ids_are_the_prefix_of_new_ones():
    """Nights published with 16-digit ids stay joinable: the old id is the new id's first 16 digits."""
    key = url_key("https://example.com/a")
    old = hashlib.sha256(key.encode()).hexdigest()[:16]
    assert article_id(key).startswith(old) and len(old) == 16


def test_no_collision_among_many_keys_and_order_kept_by_the_old_prefix():
    ids = [article_id(f"https://example.com/story/{i}") for i in range(200_000)]
    assert len(set(ids)) == len(ids)
    # sorting by the new id orders as sorting by the old 16 digits did (when those differ)
    assert sorted(ids) == sorted(ids, key=lambda i: i[:16])
