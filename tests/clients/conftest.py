"""The demo (``geogrid demo --no-serve``) loaded once into a fresh database and served by uvicorn, for the tests
that drive it with outside clients: the README's curl examples, GDAL and the QGIS project's datasources.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from geogrid.demo import load_demo
from geogrid.store.db import drop_database, get_engine
from tests.conftest import _copy_template, _url_for
from tests.serving import uvicorn_server


@pytest.fixture(scope="package")
def demo_url(template_url: str) -> Iterator[str]:
    name = f"geogrid_demo_{uuid.uuid4().hex[:10]}"
    _copy_template(template_url, name)
    url = _url_for(name)
    load_demo(url, progress=False)
    yield url
    get_engine(url).dispose()
    drop_database(url)


@pytest.fixture(scope="package")
def demo_server(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log: Path = tmp_path_factory.mktemp("demo-server") / "uvicorn.log"
    with uvicorn_server(demo_url, log) as base:
        yield base
