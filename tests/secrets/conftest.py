"""One real dev lab per test module: the secrets engines each mount at their own path."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def lab(request):
    from labkit import VaultLab

    name = "sec-" + request.module.__name__.rsplit(".", 1)[-1].replace("_", "-")
    with VaultLab(name, mode="dev", lifetime="ephemeral", export_env=False) as lab:
        yield lab
