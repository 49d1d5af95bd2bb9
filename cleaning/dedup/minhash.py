"""MinHash signatures and LSH band keys.

For a shingle set S and k hash functions h_i, the signature is sig_i = min over x in S of h_i(x);
for two sets, P[sig_i(A) = sig_i(B)] = J(A, B), their Jaccard similarity. We use datasketch's
``affine32`` scheme: each 64-bit shingle hash is folded to 32 bits, mixed by the murmur3 32-bit
finalizer, and h_i(x) = (a_i x + b_i) mod 2^32 with datasketch's own (a_i, b_i) for the seed.
``signature`` evaluates that for a whole set at once with numpy and gives exactly the hash values
of ``datasketch.MinHash(num_perm, seed, scheme="affine32")`` fed the same 32-bit values (a test
checks this), so signatures can be loaded into datasketch's ``LeanMinHash`` or ``MinHashLSH``.

LSH: the k values are cut into b bands of r rows; two sets become candidates when any band is
equal, which happens with probability 1 - (1 - J^r)^b. ``band_layout`` picks (b, r) for a
Jaccard threshold with datasketch's optimizer, weighing false positives and negatives equally
(false positives are cheap: every candidate is verified on the real shingle sets). A band key is
the band's r values combined into 64 bits and mixed, salted with the band's number so equal
values in different bands never collide.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from cleaning.dedup.shingles import fmix64, fold32

MAX_HASH32 = np.uint32(0xFFFFFFFF)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def fmix32(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


_BLOCK = 1024  # shingles per block: keeps the scratch array small enough to be reused


def signature(shingles: np.ndarray, num_perm: int, seed: int = 1) -> np.ndarray:
    """uint32 MinHash signature of a shingle set (all 0xFFFFFFFF for an empty set)."""
    result = np.full(num_perm, MAX_HASH32, dtype=np.uint32)
    if len(shingles) == 0:
        return result
    a, b = permutations(num_perm, seed)
    mixed = fmix32(fold32(shingles))
    # One preallocated [num_perm, block] scratch array: a fresh large temporary per body would
    # cost a page-faulting allocation each time, which measured 3x slower than the arithmetic.
    scratch = _scratch(num_perm)
    for start in range(0, len(mixed), _BLOCK):
        block = mixed[start : start + _BLOCK]
        out = scratch[:, : len(block)]
        np.multiply.outer(a, block, out=out)
        np.add(out, b[:, None], out=out)
        np.minimum(result, out.min(axis=1), out=result)
    return result


_scratch_arrays: dict[int, np.ndarray] = {}


def _scratch(num_perm: int) -> np.ndarray:
    if num_perm not in _scratch_arrays:
        _scratch_arrays[num_perm] = np.empty((num_perm, _BLOCK), dtype=np.uint32)
    return _scratch_arrays[num_perm]


@lru_cache(maxsize=32)
def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) for a Jaccard threshold, by datasketch's false-positive/negative optimizer."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)


def band_keys(sig: np.ndarray, bands: int, rows: int, salt: int = 0) -> np.ndarray:
    """One uint64 key per band (works on one signature or a [n, num_perm] matrix)."""
    sig = np.asarray(sig, dtype=np.uint64)
    shaped = sig[..., : bands * rows].reshape(sig.shape[:-1] + (bands, rows))
    with np.errstate(over="ignore"):
        acc = np.full(shaped.shape[:-1], np.uint64(salt), dtype=np.uint64)
        acc = acc + np.arange(bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        for r in range(rows):
            acc = fmix64(acc ^ shaped[..., r])
    return acc


def batch_signatures(shingles: np.ndarray, starts: np.ndarray, num_perm: int, seed: int = 1) -> np.ndarray:
    """[bodies, num_perm] signatures for concatenated shingle sets (body d is
    ``shingles[starts[d]:starts[d + 1]]``); empty sets get 0xFFFFFFFF throughout."""
    bodies = len(starts) - 1
    out = np.full((bodies, num_perm), MAX_HASH32, dtype=np.uint32)
    nonempty = np.flatnonzero(starts[1:] > starts[:-1])
    if len(nonempty) == 0:
        return out
    a, b = permutations(num_perm, seed)
    mixed = fmix32(fold32(shingles))
    offsets = starts[:-1][nonempty]
    scratch = np.empty(len(mixed), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for i in range(num_perm):
            np.multiply(mixed, a[i], out=scratch)
            scratch += b[i]
            out[nonempty, i] = np.minimum.reduceat(scratch, offsets)
    return out
