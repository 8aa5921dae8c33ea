"""Near-duplicate detection on normalised text: character shingles and containment."""
from __future__ import annotations

from jixiao.knowledge.basis import normalize

K = 6
DUPLICATE = 0.85   # this share of one text's shingles found in the other: same document
SAME = 0.97        # both ways: the same version


def shingles(text: str, k: int = K) -> set[str]:
    flat = normalize(text)
    return {flat[i:i + k] for i in range(max(1, len(flat) - k + 1))}


def containment(small: set[str], large: set[str]) -> float:
    return len(small & large) / len(small) if small else 0.0


def compare(a: str, b: str) -> tuple[float, float]:
    """(share of a found in b, share of b found in a)."""
    sa, sb = shingles(a), shingles(b)
    return containment(sa, sb), containment(sb, sa)
