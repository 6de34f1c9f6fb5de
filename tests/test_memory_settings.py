"""The daemon's allocator cap: set on glibc unless the operator set MALLOC_ARENA_MAX."""

from __future__ import annotations

import ctypes

import pytest

from monitor.service.memory import limit_arenas


def test_an_operators_malloc_arena_max_is_left_to_glibc() -> None:
    assert limit_arenas({"MALLOC_ARENA_MAX": "8"}) is False


def test_the_cap_is_set_on_glibc() -> None:
    try:
        ctypes.CDLL(None).mallopt  # noqa: B018
    except AttributeError:
        pytest.skip("not glibc")
    assert limit_arenas({}) is True
