"""``labkit verify BUNDLE``: what a reviewer runs on the evidence a vendor sent.

Checks the sha256 of every file in ``manifest.json``, that no file was added or
removed, and that the secret scanner finds no credential shape; then prints the
summary. Any tampering fails with the file named.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import LabError
from . import bundle, scan


@dataclass
class VerifyReport:
    bundle: Path
    problems: list[str] = field(default_factory=list)
    files: int = 0
    summary: str = ""
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def _repr_html_(self) -> str:
        from .form import verify_html

        return verify_html(self)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        head = (f"Evidence {self.bundle}: {'VERIFIED' if self.ok else 'FAILED'} "
                f"({self.files} files, manifest sha256 {self.fingerprint[:16]}...)")
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def _safe_extract(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for m in members:
            path = PurePosixPath(m.name)
            if path.is_absolute() or ".." in path.parts or not (m.isfile() or m.isdir()):
                raise LabError(f"The archive {archive} holds an unsafe entry {m.name!r}.",
                               "Do not trust this archive; ask the vendor for a fresh one.")
        tar.extractall(dest, members=members)
    tops = {PurePosixPath(m.name).parts[0] for m in members if m.name}
    if len(tops) != 1:
        raise LabError(f"The archive {archive} should hold one evidence folder, it holds {sorted(tops)}.",
                       "Pack the evidence folder as `labkit certify` does, or verify the folder itself.")
    return dest / tops.pop()


def verify_folder(folder: Path) -> VerifyReport:
    folder = Path(folder)
    report = VerifyReport(folder)
    manifest_path = folder / bundle.MANIFEST
    if not manifest_path.is_file():
        report.problems.append(f"{bundle.MANIFEST}: missing (not an evidence bundle, or the manifest was removed)")
        return report
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        report.problems.append(f"{bundle.MANIFEST}: unreadable ({exc})")
        return report
    report.fingerprint = bundle.sha256(manifest_path)
    present = set(bundle.bundle_files(folder)) - {bundle.MANIFEST}
    for rel in sorted(set(listed) - present):
        report.problems.append(f"{rel}: removed (listed in the manifest, missing from the bundle)")
    for rel in sorted(present - set(listed)):
        report.problems.append(f"{rel}: added (not listed in the manifest)")
    for rel in sorted(set(listed) & present):
        if bundle.sha256(folder / rel) != listed[rel].get("sha256"):
            report.problems.append(f"{rel}: modified (sha256 differs from the manifest)")
    for hit in scan.scan_folder(folder):
        report.problems.append(f"{hit.file}: secret scanner hit, {hit.kind} on line {hit.line}")
    report.files = len(present)
    summary = folder / "summary.md"
    report.summary = summary.read_text(encoding="utf-8") if summary.is_file() else ""
    return report


def verify(path) -> VerifyReport:
    """Verify an evidence folder or its ``.tar.gz`` archive."""
    path = Path(path).expanduser()
    if not path.exists():
        raise LabError(f"No evidence at {path}.", "Pass the evidence folder or the .tar.gz that `labkit certify` made.")
    if path.is_dir():
        return verify_folder(path)
    if not tarfile.is_tarfile(path):
        raise LabError(f"{path} is neither an evidence folder nor a tar archive.",
                       "Pass the evidence folder or the .tar.gz that `labkit certify` made.")
    with tempfile.TemporaryDirectory(prefix="labkit-verify-") as tmp:
        report = verify_folder(_safe_extract(path, Path(tmp)))
    report.bundle = path
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        recorded = sidecar.read_text(encoding="utf-8").split()[:1]
        if recorded != [bundle.sha256(path)]:
            report.problems.append(f"{path.name}: modified (sha256 differs from {sidecar.name})")
    return report
