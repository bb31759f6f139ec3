"""Every notebook follows the house structure: kernelspec saved, exactly one
`parameters` cell of literals, no function or class definitions, no saved outputs
except cells tagged keep_output, a title first and a check cell somewhere."""

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(p.name == "00-start-here.ipynb" for p in NOTEBOOKS)


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def notebook(request):
    return request.param, json.loads(request.param.read_text())


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_kernelspec_is_saved(notebook):
    _, nb = notebook
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_exactly_one_parameters_cell_of_literals(notebook):
    _, nb = notebook
    cells = [c for c in code_cells(nb) if "parameters" in c["metadata"].get("tags", [])]
    assert len(cells) == 1
    for node in ast.parse(source(cells[0])).body:
        assert isinstance(node, ast.AnnAssign), ast.dump(node)
        ast.literal_eval(node.value)  # raises if not a literal


def test_no_functions_or_classes_in_notebooks(notebook):
    _, nb = notebook
    for cell in code_cells(nb):
        text = "\n".join(line for line in source(cell).splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(text)):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), source(cell)


def test_outputs_are_stripped(notebook):
    _, nb = notebook
    for cell in code_cells(nb):
        if "keep_output" not in cell["metadata"].get("tags", []):
            assert not cell.get("outputs") and not cell.get("execution_count"), source(cell)[:80]


def test_title_first_and_a_check_cell(notebook):
    _, nb = notebook
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown" and source(first).startswith("# ")
    assert any("check(" in source(c) or "Checklist(" in source(c) or ".done()" in source(c) for c in code_cells(nb))
