"""ExpiringCache: values kept for a while, and no more than a given number of them."""

from __future__ import annotations

import time

from photomaker.core.expiring_cache import ExpiringCache


def test_a_value_is_kept_until_it_expires() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(ttl_s=0.2, size=4)
    cache.put("a", "dana")
    assert cache.get("a") == "dana" and cache.get("b") is None
    time.sleep(0.3)
    assert cache.get("a") is None


def test_the_oldest_is_forgotten_beyond_the_size() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(ttl_s=60, size=2)
    for number, key in enumerate("abc"):
        cache.put(key, number)
    assert [cache.get(key) for key in "abc"] == [None, 1, 2]
    cache.put("b", 10)  # put again: now the newest
    cache.put("d", 3)
    assert [cache.get(key) for key in "bcd"] == [10, None, 3]


def test_nothing_is_kept_without_a_time_to_keep_it() -> None:
    cache: ExpiringCache[str, str] = ExpiringCache(ttl_s=0, size=4)
    cache.put("a", "dana")
    assert cache.get("a") is None
