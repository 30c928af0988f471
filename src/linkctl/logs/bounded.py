"""Containers whose size does not grow with the log: what a streaming analysis keeps
of an unbounded run of periods, changes and events."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Kept(Generic[T]):
    """The first `keep` and the last `keep` items of a stream, and how many came in
    between: a log of a million flaps is reported by its ends and a count."""

    __slots__ = ("_keep", "head", "tail", "total")

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self.head: list[T] = []
        self.tail: deque[T] = deque(maxlen=keep)
        self.total = 0

    def append(self, item: T) -> None:
        if self.total < self._keep:
            self.head.append(item)
        else:
            self.tail.append(item)
        self.total += 1

    @property
    def omitted(self) -> int:
        """Items dropped between the head and the tail."""
        return self.total - len(self.head) - len(self.tail)

    def __iter__(self) -> Iterator[T]:
        yield from self.head
        yield from self.tail

    def __len__(self) -> int:
        return len(self.head) + len(self.tail)

    def __bool__(self) -> bool:
        return self.total > 0


# Up to this many distinct values a spread is exact (values are counted, not listed).
EXACT_DISTINCT = 10_000
# Past it, values fall into buckets this wide (relative): the median is then within
# 0.05 % of the true one.
BUCKET_RATIO = 1e-3
_LOG_RATIO = math.log1p(BUCKET_RATIO)


class Spread:
    """Minimum, median and maximum of a stream of numbers in bounded memory.

    Down periods repeat the same few durations (a flapping port bounces on the same
    timer), so counting distinct values keeps the median exact for any log of normal
    size; only a stream of more than EXACT_DISTINCT distinct values is summarised in
    log-spaced buckets, whose number is bounded by the range of the values."""

    __slots__ = ("_buckets", "_exact", "count", "max", "min")

    def __init__(self) -> None:
        self.count = 0
        self.min: float | None = None
        self.max: float | None = None
        self._exact: Counter[float] | None = Counter()
        self._buckets: Counter[tuple[int, int]] = Counter()

    def add(self, value: float) -> None:
        self.count += 1
        self.min = value if self.min is None else min(self.min, value)
        self.max = value if self.max is None else max(self.max, value)
        if self._exact is None:
            self._buckets[_bucket(value)] += 1
            return
        self._exact[value] += 1
        if len(self._exact) > EXACT_DISTINCT:
            for seen, times in self._exact.items():
                self._buckets[_bucket(seen)] += times
            self._exact = None

    @property
    def exact(self) -> bool:
        return self._exact is not None

    def median(self) -> float | None:
        """As statistics.median: the middle value, or the mean of the two middle ones."""
        if not self.count:
            return None
        low, high = (self.count - 1) // 2, self.count // 2
        if self._exact is not None:
            ranked = sorted(self._exact.items())
            return (_at(ranked, low) + _at(ranked, high)) / 2
        assert self.min is not None and self.max is not None
        ranked_buckets = sorted(self._buckets.items())
        middle = (_value(_at(ranked_buckets, low)) + _value(_at(ranked_buckets, high))) / 2
        return min(max(middle, self.min), self.max)


def _at(ranked: list[tuple[T, int]], index: int) -> T:
    """The value at `index` of the sorted run that `ranked` counts."""
    seen = 0
    for value, times in ranked:
        seen += times
        if index < seen:
            return value
    raise IndexError(index)


def _bucket(value: float) -> tuple[int, int]:
    # Sorted as the values are: negatives (larger magnitude first), zero, positives.
    if value == 0:
        return (0, 0)
    step = math.floor(math.log(abs(value)) / _LOG_RATIO)
    return (1, step) if value > 0 else (-1, -step)


def _value(bucket: tuple[int, int]) -> float:
    sign, step = bucket
    if sign == 0:
        return 0.0
    magnitude = math.exp((sign * step + 0.5) * _LOG_RATIO)
    return sign * magnitude
