"""The image build context and its fingerprint (no engine needed)."""

from __future__ import annotations

from labkit.containers.image import fingerprint, image_tag, prepare_context
from labkit.server.binary import find_server_binary


def test_context_holds_containerfile_binary_and_plugins(tmp_path):
    binary = find_server_binary()
    folder = prepare_context(binary, tmp_path / "ctx")
    assert "FROM ${BASE}" in (folder / "Containerfile").read_text()
    assert (folder / "server").stat().st_size == binary.path.stat().st_size
    assert (folder / "plugins").is_dir()
    assert image_tag(binary) == f"localhost/labkit-server:{binary.flavour}-{binary.version_string}"
    before = fingerprint(folder)
    assert fingerprint(prepare_context(binary, folder)) == before  # unchanged: no rebuild
    (folder / "plugins" / "extra").write_text("x")
    assert fingerprint(folder) != before
