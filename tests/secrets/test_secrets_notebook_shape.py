"""Notebook 02 follows the lab's notebook pattern (its run is tested by nbval)."""

import ast
from pathlib import Path

import nbformat

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02-secrets-engines.ipynb"


def test_notebook_02_shape():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata.kernelspec == {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                      "language": "python"}
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "save the notebook without outputs"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for node in ast.parse(params[0].source).body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant), ast.dump(node)
    for cell in code:
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)), cell.source
    assert sum("check(" in c.source for c in code) == 4
    assert nb.cells[0].source.startswith("# 02")
