"""In a real kernel, a credential printed or displayed by mistake is masked."""

import json

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.integration


def test_root_token_never_reaches_a_cell_output(lab_home, tmp_path):
    leak = tmp_path / "token.txt"
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (
        "import labkit\nlab = labkit.VaultLab('guard').start()",
        f"open({str(leak)!r}, 'w').write(lab.credentials.root_token.reveal())",
        "print('token is', lab.credentials.root_token.reveal())",
        "lab.credentials.root_token.reveal()",
        "import sys; print(lab.env['VAULT_TOKEN'], file=sys.stderr)",
        "lab",
        "lab.stop()",
    )]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    token = leak.read_text()
    assert len(token) > 20
    outputs = json.dumps([cell.get("outputs", []) for cell in nb.cells])
    assert token not in outputs
    assert outputs.count("<redacted:root-token>") == 3, outputs
