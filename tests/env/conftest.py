"""Shared setup of the sonic-env tests: a private USD cache, so tests never touch the user's."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sonic_env.assets import CACHE_ENV_VAR


@pytest.fixture(scope="session", autouse=True)
def _private_sonic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    old = os.environ.get(CACHE_ENV_VAR)
    os.environ[CACHE_ENV_VAR] = str(tmp_path_factory.mktemp("sonic-cache"))
    yield
    if old is None:
        os.environ.pop(CACHE_ENV_VAR, None)
    else:
        os.environ[CACHE_ENV_VAR] = old
