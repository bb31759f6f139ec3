"""The pkcs11 seal: on OpenBao 2.7+ a KMS plugin the lab builds; on Vault Enterprise
a built-in seal stanza.

OpenBao 2.7 moved the ``pkcs11`` seal out of the server into an external KMS plugin
that the server starts through go-plugin (declared with ``plugin "kms" "pkcs11"``
beside ``seal "pkcs11"``). The lab ships a small Go main of its own in
``environments/kms-pkcs11/`` (go-plugin, gRPC, miekg/pkcs11 with cgo) that speaks
OpenBao's KMS plugin protocol and does AES-GCM inside the token. It is built once per
source/toolchain digest into ``~/.cache/labkit/kms-pkcs11/`` (a second run reuses the
binary), copied into the lab's ``plugin_directory`` and declared with its sha256::

    token = SoftHSMToken(lab.workspace, "vault-hsm").ensure()
    token.aes_key("bao-root-key")
    plan = configure_pkcs11_seal(lab, token, "bao-root-key")   # before lab.start()

Where neither an OpenBao 2.7+ with a buildable plugin nor Vault Enterprise is at hand,
:func:`seal_support` says exactly what is missing.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import FeatureUnavailable, LabError
from ..server.config import environments_dir, hcl_str, render

PLUGIN_FILE = "openbao-kms-pkcs11-labkit"
MECHANISM = "CKM_AES_GCM"
# -s -w: no symbol tables; the server hashes the whole file at every launch, so smaller is faster.
BUILD_FLAGS = ("-trimpath", "-ldflags=-s -w")
BUILD_TIMEOUT = float(os.environ.get("LABKIT_GO_BUILD_TIMEOUT", "1200"))
GO_HELP = ("Install Go 1.24 or newer from https://go.dev/doc/install and put it on PATH "
           "(Debian's golang package is too old for the plugin's modules).")


def source_dir() -> Path:
    return environments_dir() / "kms-pkcs11"


def cache_root() -> Path:
    """``$LABKIT_CACHE``, else ``$XDG_CACHE_HOME/labkit``, else ``~/.cache/labkit``:
    kept across labs and test runs so the Go build happens once."""
    if os.environ.get("LABKIT_CACHE"):
        return Path(os.environ["LABKIT_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "labkit"



from ..workspace import file_sha256
from ..doctor import go_binary


def go_version(go: Path | None = None) -> str | None:
    go = go or go_binary()
    if go is None:
        return None
    try:
        out = subprocess.run([str(go), "env", "GOVERSION"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None




def source_digest(go_ver: str) -> str:
    """A digest of the plugin's sources, go.mod/go.sum, the Go version and platform:
    the cache key of the build."""
    digest = hashlib.sha256(f"{go_ver} {platform.system()} {platform.machine()} {BUILD_FLAGS}\n".encode())
    root = source_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".go", ".mod", ".sum")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class PluginBuild:
    """The built plugin: where it is, its sha256, and whether this call compiled it."""

    path: Path
    sha256: str
    built: bool
    seconds: float
    go_version: str

    def __str__(self) -> str:
        how = f"built in {self.seconds:.1f} s" if self.built else "reused from the build cache"
        return f"{self.path.name} ({how}, {self.go_version}), sha256 {self.sha256}"


def _explain_build_failure(output: str) -> LabError:
    text = output.strip()
    tail = "\n".join(text.splitlines()[-15:])
    if "403 Forbidden" in text or "not available" in text or "dial tcp" in text or "Could not resolve" in text:
        return FeatureUnavailable(
            f"Go could not download a module the PKCS#11 plugin needs:\n{tail}",
            "Let `go` reach the Go module proxy (GOPROXY), or pre-fill the module cache with "
            f"`cd {source_dir()} && go mod download` on a machine that can.")
    if "gcc" in text or "C compiler" in text or "cgo" in text.lower():
        return FeatureUnavailable(
            f"The PKCS#11 plugin needs cgo (a C compiler) to load the HSM library:\n{tail}",
            "Install a C compiler: sudo apt-get install gcc (Debian/Ubuntu) or xcode-select --install (macOS).")
    return LabError(f"Building the PKCS#11 KMS plugin failed:\n{tail}",
                    f"Read the compiler output above; the sources are in {source_dir()}.")


def build_plugin(force: bool = False, timeout: float | None = None) -> PluginBuild:
    """Build the plugin with cgo unless the cache holds a build of these exact sources."""
    go = go_binary()
    if go is None:
        raise FeatureUnavailable("The Go toolchain (go) was not found; the PKCS#11 KMS plugin is built from Go.",
                                 GO_HELP)
    ver = go_version(go)
    if not ver:
        raise FeatureUnavailable(f"{go} did not report its version.", GO_HELP)
    digest = source_digest(ver)
    folder = cache_root() / "kms-pkcs11" / digest[:16]
    target = folder / PLUGIN_FILE
    stamp = folder / "sha256"
    if not force and target.is_file() and stamp.is_file():
        sha = stamp.read_text().strip()
        if file_sha256(target) == sha:
            return PluginBuild(target, sha, False, 0.0, ver)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = folder / f".{PLUGIN_FILE}.{os.getpid()}"
    env = {**os.environ, "CGO_ENABLED": "1", "GOFLAGS": "-mod=readonly"}
    began = time.perf_counter()
    try:
        result = subprocess.run([str(go), "build", *BUILD_FLAGS, "-o", str(tmp), "."], cwd=source_dir(), env=env,
                                capture_output=True, text=True, timeout=timeout or BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"Building the PKCS#11 KMS plugin took longer than {exc.timeout:g} s.",
                       "A first build downloads and compiles gRPC; retry, or raise LABKIT_GO_BUILD_TIMEOUT.") from exc
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise _explain_build_failure(result.stderr + result.stdout)
    os.chmod(tmp, 0o755)
    sha = file_sha256(tmp)
    os.replace(tmp, target)
    stamp.write_text(sha + "\n")
    for old in folder.parent.iterdir():
        # Builds of older sources or toolchains are never used again.
        if old != folder and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return PluginBuild(target, sha, True, time.perf_counter() - began, ver)


def install_plugin(plugin_dir: Path, build: PluginBuild | None = None) -> PluginBuild:
    """Put the built plugin directly in ``plugin_dir`` (the server runs it only from
    there) as an executable file; returns the build with the installed path."""
    build = build or build_plugin()
    plugin_dir = Path(plugin_dir)
    plugin_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest = plugin_dir / PLUGIN_FILE
    if not (dest.is_file() and file_sha256(dest) == build.sha256):
        tmp = plugin_dir / f".{PLUGIN_FILE}.tmp"
        shutil.copyfile(build.path, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
    return PluginBuild(dest, build.sha256, build.built, build.seconds, build.go_version)


# Support -------------------------------------------------------------------

@dataclass
class SealSupport:
    """What the pkcs11 seal needs on this machine and what is missing."""

    route: str | None  # "openbao-plugin", "vault-enterprise" or None
    have: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.route is not None and not self.missing

    def __str__(self) -> str:
        lines = [f"pkcs11 seal: {'ready via ' + self.route if self.ok else 'not available here'}"]
        lines += [f"  have: {h}" for h in self.have]
        lines += [f"  missing: {m}" for m in self.missing]
        return "\n".join(lines)

    def _repr_mimebundle_(self, **kwargs):
        import html

        rows = "".join(f"<li>✅ {html.escape(h)}</li>" for h in self.have)
        rows += "".join(f"<li>❌ {html.escape(m)}</li>" for m in self.missing)
        head = f"ready via {self.route}" if self.ok else "not available here"
        return {"text/plain": str(self), "text/html": f"<b>pkcs11 seal: {html.escape(head)}</b><ul>{rows}</ul>"}


def seal_support(binary) -> SealSupport:
    """Which route the pkcs11 seal takes with ``binary`` (a ServerBinary) and what is missing."""
    from ..doctor import softhsm_library

    support = SealSupport(route=None)
    lib = softhsm_library()
    (support.have if lib else support.missing).append(
        f"SoftHSM library {lib}" if lib else "the SoftHSM library (sudo apt-get install softhsm2)")
    caps = binary.capabilities
    if binary.flavour == "vault":
        if binary.enterprise:
            support.route = "vault-enterprise"
            support.have.append(f"{binary.product} {binary.version_string}: built-in seal \"pkcs11\"")
        else:
            support.missing.append(f"{binary.product} {binary.version_string} has no pkcs11 seal: it needs "
                                   "Vault Enterprise (an HSM licence), or use OpenBao 2.7+ with the KMS plugin")
        return support
    if "pkcs11" in caps.seals:
        support.route = "openbao-builtin"
        support.have.append(f"{binary.product} {binary.version_string}: pkcs11 seal built in")
        return support
    support.route = "openbao-plugin"
    support.have.append(f"{binary.product} {binary.version_string}: pkcs11 seal as a KMS plugin")
    go = go_binary()
    ver = go_version(go) if go else None
    (support.have if ver else support.missing).append(
        f"Go toolchain {ver} ({go})" if ver else f"the Go toolchain: {GO_HELP}")
    cc = shutil.which("gcc") or shutil.which("cc")
    (support.have if cc else support.missing).append(
        f"C compiler {cc} (cgo)" if cc else "a C compiler for cgo (sudo apt-get install gcc)")
    return support


# Config ----------------------------------------------------------------------

@dataclass(frozen=True)
class SealPlan:
    """What was written into the lab's config for the pkcs11 seal."""

    route: str
    fragment: Path
    token_label: str
    key_label: str
    library: Path
    plugin: PluginBuild | None = None

    def __str__(self) -> str:
        extra = f", plugin {self.plugin}" if self.plugin else ""
        return (f"seal \"pkcs11\" via {self.route}: token {self.token_label!r}, key {self.key_label!r}, "
                f"lib {self.library}{extra}; config {self.fragment}")


def render_openbao_seal(*, command: str, sha256: str, lib: Path, token_label: str, pin: str,
                        key_label: str, env: dict[str, str]) -> str:
    """``plugin "kms" "pkcs11"`` + ``seal "pkcs11"`` for OpenBao 2.7+."""
    return render("hsm/openbao-pkcs11-seal.hcl.tmpl", command=hcl_str(command), sha256=hcl_str(sha256),
                  env=", ".join(hcl_str(f"{k}={v}") for k, v in sorted(env.items())),
                  lib=hcl_str(lib), token_label=hcl_str(token_label), pin=hcl_str(pin),
                  key_label=hcl_str(key_label), mechanism=hcl_str(MECHANISM))


def render_vault_seal(*, lib: Path, token_label: str, pin: str, key_label: str) -> str:
    """Vault Enterprise's own ``seal "pkcs11"`` (keys generated by Vault, plus an HMAC key)."""
    return render("hsm/vault-pkcs11-seal.hcl.tmpl", lib=hcl_str(lib), token_label=hcl_str(token_label),
                  pin=hcl_str(pin), key_label=hcl_str(key_label), hmac_key_label=hcl_str(f"{key_label}-hmac"),
                  mechanism=hcl_str("0x1087"))


def configure_pkcs11_seal(lab, token, key_label: str = "bao-root-key", pin: str | None = None) -> SealPlan:
    """Write ``config/seal.hcl`` so ``lab`` seals through ``token``; call before
    ``lab.start()`` (or ``lab.restart()`` to change it). ``pin`` overrides the token's
    PIN in the config (how the notebook shows a wrong PIN)."""
    binary = lab._require_binary()
    support = seal_support(binary)
    if support.route is None:
        raise FeatureUnavailable("The pkcs11 seal cannot run here: " + "; ".join(support.missing),
                                 "Use OpenBao 2.7+ (the embedded bao) with Go and a C compiler, or Vault Enterprise.")
    pin_value = pin if pin is not None else token.pin.reveal()
    if support.route == "vault-enterprise":
        text = render_vault_seal(lib=token.library, token_label=token.label, pin=pin_value, key_label=key_label)
        return SealPlan(support.route, lab.set_config_fragment("seal", text), token.label, key_label, token.library)
    if support.route == "openbao-builtin":
        raise FeatureUnavailable(f"{binary.product} {binary.version_string} has the pkcs11 seal built in; "
                                 "this lab renders the KMS-plugin form of OpenBao 2.7+.",
                                 "Use the embedded bao 2.7 (binary=None).")
    if support.missing:
        raise FeatureUnavailable("The PKCS#11 KMS plugin cannot be built: " + "; ".join(support.missing),
                                 "Install what is listed, then re-run this cell.")
    if lab.plugin_dir is None:
        raise LabError("The lab has no plugin directory for the KMS plugin.",
                       "Create the lab with VaultLab(..., plugin_dir=workspace_path / 'plugins').")
    if not token.has_key(key_label):
        raise LabError(f"Token {token.label!r} has no key {key_label!r}; OpenBao never creates it.",
                       f"Create it before init: token.aes_key({key_label!r}).")
    plugin = install_plugin(lab.plugin_dir)
    text = render_openbao_seal(command=PLUGIN_FILE, sha256=plugin.sha256, lib=token.library,
                               token_label=token.label, pin=pin_value, key_label=key_label, env=token.env)
    return SealPlan(support.route, lab.set_config_fragment("seal", text), token.label, key_label,
                    token.library, plugin)


def main(argv: list[str] | None = None) -> int:
    """``python -m labkit.hsm.kms_plugin [support|build]``: what the pkcs11 seal needs
    here, or build the plugin into the cache ahead of a class (for a future
    ``labkit hsm`` subcommand)."""
    import argparse

    from ..server.binary import find_server_binary

    parser = argparse.ArgumentParser(prog="labkit hsm", description="The lab's PKCS#11 KMS plugin.")
    parser.add_argument("action", choices=("support", "build"), nargs="?", default="support")
    parser.add_argument("--force", action="store_true", help="rebuild even when the cache has this build")
    args = parser.parse_args(argv)
    try:
        if args.action == "support":
            support = seal_support(find_server_binary())
            print(support)
            return 0 if support.ok else 1
        print(build_plugin(force=args.force))
        return 0
    except LabError as exc:
        print(exc)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
