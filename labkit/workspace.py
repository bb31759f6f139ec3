"""The lab folder: one private directory per lab holding configs, data, logs, TLS
material, credentials and the state file that lets a notebook re-attach to its lab.

Layout (all under ``$LABKIT_HOME/labs/NAME``, mode 0700)::

    config/       rendered server configs
    data/         raft or other durable storage
    logs/         server.log and logs of every side service
    tls/          the lab CA and server certificate
    credentials.json   root token, unseal/recovery keys (0600)
    state.json         what runs: pid, port, mode, lifetime (0600)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from .errors import WorkspaceError

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def labkit_home() -> Path:
    """``$LABKIT_HOME`` or ``~/.labkit``: where every lab folder lives."""
    env = os.environ.get("LABKIT_HOME")
    return Path(env).expanduser() if env else Path.home() / ".labkit"


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise WorkspaceError(
            f"{name!r} is not a valid lab name.",
            "Use 1-40 lowercase letters, digits, '-' or '_', starting with a letter or digit, e.g. 'start'.",
        )
    return name


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (plugins, KMS plugin, evidence)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_private(path: Path, text: str, mode: int = PRIVATE_FILE) -> Path:
    """Write ``text`` atomically with ``mode``: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


class Workspace:
    """The private folder of the lab called ``name``."""

    def __init__(self, name: str, home: Path | str | None = None):
        self.name = check_name(name)
        self.home = Path(home).expanduser() if home else labkit_home()
        self.root = self.home / "labs" / name

    def __repr__(self) -> str:
        return f"Workspace({self.name!r}, {str(self.root)!r})"

    # Folders -------------------------------------------------------------
    def ensure(self) -> "Workspace":
        """Create the folder tree, private to this user; fail clearly if we can't."""
        try:
            for folder in (self.home, self.home / "labs", self.root):
                folder.mkdir(exist_ok=True, mode=PRIVATE_DIR)
            os.chmod(self.home, PRIVATE_DIR)
            os.chmod(self.root, PRIVATE_DIR)
            for sub in ("config", "data", "logs", "tls"):
                (self.root / sub).mkdir(exist_ok=True, mode=PRIVATE_DIR)
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise WorkspaceError(
                f"The lab folder {self.root} cannot be used: {exc.strerror or exc}.",
                f"Make {self.home} writable by this user, or point LABKIT_HOME at a folder you own "
                "(export LABKIT_HOME=~/labkit-labs).",
            ) from exc
        return self

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def tls_dir(self) -> Path:
        return self.root / "tls"

    def exists(self) -> bool:
        return self.root.is_dir()

    def remove(self) -> None:
        """Delete the whole lab folder (data, logs and credentials included)."""
        if self.root.exists():
            shutil.rmtree(self.root)

    # JSON records ----------------------------------------------------------
    def read_json(self, filename: str) -> dict | None:
        """Read a JSON record; None if absent; a clear error if corrupt."""
        path = self.root / filename
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return data
        except (ValueError, OSError) as exc:
            raise WorkspaceError(
                f"The lab folder {self.root} has a corrupt {filename} ({exc}).",
                f"If the lab is not needed any more, remove it with `labkit stop {self.name} --purge`; "
                f"otherwise restore {path} from a backup.",
            ) from exc

    def write_json(self, filename: str, data: dict) -> Path:
        return write_private(self.root / filename, json.dumps(data, indent=2, sort_keys=True) + "\n")

    def delete(self, filename: str) -> None:
        try:
            (self.root / filename).unlink()
        except FileNotFoundError:
            pass

    def permission_problems(self) -> list[str]:
        """Files or folders readable by others (a secret leak on a shared machine)."""
        problems = []
        if not self.root.exists():
            return problems
        for path in [self.root, *self.root.rglob("*")]:
            if path.is_symlink():
                continue
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & 0o077:
                problems.append(f"{path} has mode {oct(mode)}")
        return problems


def list_workspaces(home: Path | str | None = None) -> list[Workspace]:
    base = (Path(home).expanduser() if home else labkit_home()) / "labs"
    if not base.is_dir():
        return []
    return [Workspace(p.name, home=base.parent) for p in sorted(base.iterdir())
            if p.is_dir() and NAME_PATTERN.match(p.name)]
