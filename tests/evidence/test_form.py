"""The certification form of notebook 08, in plain pytest (widgets have no frontend here)."""

from __future__ import annotations

import pytest

from labkit.errors import LabError
from labkit.evidence.form import CatalogView, CertifyForm

from .helpers import write_notebook


@pytest.fixture
def nbs(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    write_notebook(folder / "00-base.ipynb", ["x = 1"])
    write_notebook(folder / "03-audit.ipynb", ["x = 1"])
    return folder


def test_form_settings_and_static_fallback(nbs, tmp_path):
    form = CertifyForm(vendor="Acme", integration="acme-audit", integration_types="audit, hsm",
                       output=str(tmp_path / "ev"), notebooks="00 03", notebooks_dir=nbs)
    assert form.types.options == ("baseline", "audit")  # only types with a notebook present
    s = form.settings()
    assert s["types"] == ["audit"] and s["only"] == ["00", "03"] and s["output"] == str(tmp_path / "ev")
    bundle = form._repr_mimebundle_()
    assert "acme-audit" in bundle["text/html"] and "not run yet" in bundle["text/plain"]


def test_form_shows_bad_input_clearly(nbs, tmp_path):
    form = CertifyForm(vendor="Acme", integration="x", plugin_source=str(tmp_path / "missing"),
                       output=str(tmp_path / "ev"), notebooks_dir=nbs)
    form.button.click()  # a widget callback's error is shown in the form, not raised to the caller
    assert "does not exist" in form.status.value and not form.button.disabled


def test_form_refuses_unknown_type(nbs):
    with pytest.raises(LabError, match="Unknown integration type"):
        CertifyForm(vendor="Acme", integration="x", integration_types="telepathy", notebooks_dir=nbs)


def test_catalog_view(nbs):
    view = CatalogView(nbs)
    assert "03-audit.ipynb" in view._repr_html_() and "Audit device" in repr(view)
