"""MinHash signatures and LSH band keys.

For a shingle set S and k random affine maps h_i(x) = (a_i x + b_i) mod p (p = 2^61 - 1, values
kept to 32 bits), the signature is sig_i = min over x in S of h_i(x). For two sets,
P[sig_i(A) = sig_i(B)] = J(A, B), their Jaccard similarity. The maps are datasketch's own
(``datasketch.MinHash(num_perm, seed).permutations``), so signatures are interchangeable with
datasketch's ``MinHash``/``LeanMinHash``; we evaluate them for a whole set at once with numpy.

LSH: the k values are cut into b bands of r rows; two sets become candidates when any band is
equal, which happens with probability 1 - (1 - J^r)^b. ``band_layout`` picks (b, r) with
datasketch's optimizer for a Jaccard threshold, weighing false positives and negatives equally
(false positives are cheap here: every candidate is verified exactly).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import xxhash

MERSENNE_PRIME = np.uint64((1 << 61) - 1)
MAX_HASH = np.uint64((1 << 32) - 1)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    return a.astype(np.uint64), b.astype(np.uint64)


def signature(shingles: np.ndarray, num_perm: int, seed: int = 1) -> np.ndarray:
    """uint32 MinHash signature of a shingle set (all MAX_HASH for an empty set)."""
    a, b = permutations(num_perm, seed)
    if len(shingles) == 0:
        return np.full(num_perm, MAX_HASH, dtype=np.uint32)
    values = (shingles & MAX_HASH)[:, None]
    hashed = np.bitwise_and((values * a + b) % MERSENNE_PRIME, MAX_HASH)
    return hashed.min(axis=0).astype(np.uint32)


@lru_cache(maxsize=32)
def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) for a Jaccard threshold, by datasketch's false-positive/negative optimizer."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per band: xxh3 of the band's rows, salted with the band number."""
    return np.array(
        [xxhash.xxh3_64_intdigest(sig[i * rows : (i + 1) * rows].tobytes(), seed=i) for i in range(bands)],
        dtype=np.uint64,
    )
