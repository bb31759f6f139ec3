"""Test notebooks built in temporary folders (never added to notebooks/)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
START = REPO / "notebooks" / "00-start-here.ipynb"


def write_notebook(path: Path, cells: list[str], parameters: str = "") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    if parameters:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, str(path))
    return path


def start_notebook_with(path: Path, extra_cells: list[str], extra_parameters: str = "") -> Path:
    """notebooks/00-start-here.ipynb plus cells appended (and parameters added)."""
    nb = nbformat.read(str(START), as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += "\n" + extra_parameters
    nb.cells += [nbformat.v4.new_code_cell(src) for src in extra_cells]
    nbformat.write(nb, str(path))
    return path


def bundle_texts(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def copy_bundle(folder: Path, dest: Path) -> Path:
    return Path(shutil.copytree(folder, dest / folder.name))


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())
