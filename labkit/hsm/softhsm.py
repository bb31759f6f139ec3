"""A SoftHSM token per lab, kept in the lab's folder.

Every lab gets its own ``SOFTHSM2_CONF`` (``hsm/softhsm2.conf``) whose token
directory is ``hsm/tokens`` inside the lab folder, so tokens of different labs never
mix and deleting the lab deletes its keys. The token is found by label, never by slot
number (SoftHSM renumbers slots when a token is initialised)::

    token = SoftHSMToken(lab.workspace, "vault-hsm").ensure()
    token.aes_key("unseal-key")                    # AES-256, sensitive, not extractable
    blob = token.encrypt("unseal-key", b"hello")   # AES-GCM inside the token
    token.decrypt("unseal-key", blob)

python-pkcs11 raises exceptions without a message; every call here turns them into a
:class:`~labkit.errors.LabError` that says what went wrong and how to fix it. PINs are
generated on first use, kept 0600 in ``hsm/pins.json`` and registered with the
redactor, so they never show in an output.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import redact
from ..errors import FeatureUnavailable, LabError
from ..redact import Secret
from ..workspace import Workspace, write_private

CONF_NAME = "softhsm2.conf"
PINS_NAME = "pins.json"
GCM_NONCE_BYTES = 12
GCM_TAG_BITS = 128

_lock = threading.RLock()
_active_conf: str | None = None
# One logged-in session per token, shared by every SoftHSMToken object of this process:
# PKCS#11 login state belongs to the application, so a second login (a re-run notebook
# cell) would raise UserAlreadyLoggedIn.
_sessions: dict[tuple[str, str], object] = {}


class HSMError(LabError):
    """A PKCS#11 call failed; the message names the call and the fix."""


def _pkcs11():
    try:
        import pkcs11
    except ImportError as exc:  # pragma: no cover - a dependency of labkit
        raise FeatureUnavailable("The Python package python-pkcs11 is not installed.",
                                 "pip install 'python-pkcs11>=0.10,<0.11' (a labkit dependency).") from exc
    return pkcs11


def find_library(library: str | Path | None = None) -> Path:
    """The SoftHSM PKCS#11 library: ``library``, ``$SOFTHSM2_LIB`` or the usual places."""
    from ..doctor import _install, softhsm_library

    path = Path(library) if library else softhsm_library()
    if path is None or not path.is_file():
        raise FeatureUnavailable(
            f"The SoftHSM library {'(libsofthsm2.so) ' if not library else str(library) + ' '}was not found.",
            f"{_install('softhsm2', 'brew install softhsm')}, or set SOFTHSM2_LIB to the library's path.")
    return path


def _clear_openssl_errors() -> None:
    """SoftHSM can leave an error in OpenSSL's queue that Python's ``ssl`` later raises
    ("no such engine") in an unrelated TLS call of this process."""
    try:
        import _ssl

        ctypes.CDLL(_ssl.__file__).ERR_clear_error()
    except (ImportError, OSError, AttributeError):
        pass


@dataclass(frozen=True)
class ObjectInfo:
    """One object on the token, as PKCS#11 attributes describe it (no key material)."""

    label: str
    object_class: str
    key_type: str | None
    bits: int | None
    sensitive: bool | None
    extractable: bool | None
    token: bool | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _wrap_error(exc: Exception, action: str, token: "SoftHSMToken", key: str | None = None) -> LabError:
    """A clear error for a python-pkcs11 exception, which carries no message."""
    pkcs11 = _pkcs11()
    name = type(exc).__name__
    where = f"token {token.label!r} ({token.token_dir})"
    table = {
        pkcs11.PinIncorrect: (f"The PIN for {where} is wrong ({action}).",
                              "Use the PIN stored in the lab (SoftHSMToken(..., pin=None) reads it), or "
                              "re-create the token with token.destroy_token() then token.ensure()."),
        pkcs11.PinLocked: (f"The user PIN of {where} is locked after too many wrong tries.",
                           "Re-initialise the token (token.destroy_token(); token.ensure()) - its keys are lost."),
        pkcs11.PinLenRange: (f"The PIN for {where} has a length SoftHSM refuses (4-255 characters).",
                             "Use a PIN of 4 to 255 characters."),
        pkcs11.NoSuchToken: (f"There is no {where}.",
                             "Create it with token.ensure(); if it was removed on purpose, put it back "
                             "(token.ensure() creates an empty one: keys are not restored)."),
        pkcs11.TokenNotPresent: (f"The {where} is not present.", "Create it with token.ensure()."),
        pkcs11.NoSuchKey: (f"No key {key!r} on {where} ({action}).",
                           f"Create it first, e.g. token.aes_key({key!r}); token.objects() lists what is there."),
        pkcs11.MultipleObjectsReturned: (f"More than one key is labelled {key!r} on {where}.",
                                         "Destroy the duplicates with token.destroy(label) and create one key."),
        pkcs11.KeyUnextractable: (f"Key {key!r} on {where} is not extractable, so it cannot be wrapped "
                                  "(exported). That is the point of an HSM key.",
                                  "Wrap only keys created with extractable=True."),
        pkcs11.AttributeSensitive: (f"Key {key!r} on {where} is sensitive: its value cannot be read.",
                                    "Read only public attributes; sensitive key material never leaves the token."),
        pkcs11.EncryptedDataInvalid: (f"Decryption with {key!r} failed: the ciphertext or its AAD was altered, "
                                      "or another key encrypted it.", "Decrypt with the key and AAD used to encrypt."),
        pkcs11.MechanismInvalid: (f"The token does not support this mechanism ({action}).",
                                  "token.mechanisms() lists what it supports."),
        pkcs11.UserNotLoggedIn: (f"No one is logged in to {where} ({action}).", "Use token.session()."),
        pkcs11.DeviceRemoved: (f"The {where} was removed.", "Create it again with token.ensure()."),
    }
    for cls, (problem, fix) in table.items():
        if isinstance(exc, cls):
            return HSMError(problem, fix)
    return HSMError(f"PKCS#11 call failed while {action} on {where}: {name}.",
                    "See the PKCS#11 error name above; token.objects() and token.mechanisms() help to diagnose.")


class SoftHSMToken:
    """The SoftHSM token called ``label`` of a lab (or of a folder).

    ``workspace_or_folder`` is a :class:`~labkit.workspace.Workspace`, a ``VaultLab``
    or a plain folder; the token lives in its ``hsm/`` subfolder. ``pin`` and
    ``so_pin`` default to the stored ones, or new random ones on first use.
    """

    def __init__(self, workspace_or_folder, label: str, pin: str | None = None,
                 so_pin: str | None = None, library: str | Path | None = None):
        lab = None
        if hasattr(workspace_or_folder, "workspace") and hasattr(workspace_or_folder, "credentials"):
            lab, workspace_or_folder = workspace_or_folder, workspace_or_folder.workspace
        if isinstance(workspace_or_folder, Workspace):
            workspace_or_folder.ensure()
            base = workspace_or_folder.root
        else:
            base = Path(workspace_or_folder)
        if not label or len(label) > 32:
            raise LabError(f"Token label {label!r} is not usable.", "Use 1-32 characters, e.g. 'vault-hsm'.")
        self._lab = lab
        self.label = label
        self.folder = base / "hsm"
        self.token_dir = self.folder / "tokens"
        self.conf_path = self.folder / CONF_NAME
        self._library_arg = library
        self._library: Path | None = None
        stored = self._read_pins()
        self.pin = Secret(pin or stored.get("pin") or secrets.token_urlsafe(12), "hsm-pin")
        self.so_pin = Secret(so_pin or stored.get("so_pin") or secrets.token_urlsafe(12), "hsm-so-pin")

    def __repr__(self) -> str:
        return f"SoftHSMToken({self.label!r}, {str(self.folder)!r}, pin=****)"

    # Files ---------------------------------------------------------------
    @property
    def library(self) -> Path:
        """Path of libsofthsm2 (what a server's ``seal "pkcs11" { lib = ... }`` names)."""
        if self._library is None:
            self._library = find_library(self._library_arg)
        return self._library

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to see this lab's tokens (the KMS plugin, softhsm2-util)."""
        return {"SOFTHSM2_CONF": str(self.conf_path)}

    def _pins_path(self) -> Path:
        return self.folder / f"{self.label}.{PINS_NAME}"

    def _read_pins(self) -> dict:
        import json

        try:
            data = json.loads(self._pins_path().read_text())
        except (OSError, ValueError):
            return {}
        for kind, value in (("hsm-pin", data.get("pin")), ("hsm-so-pin", data.get("so_pin"))):
            redact.register(value, kind)
        return data

    def _write_files(self) -> None:
        import json

        for folder in (self.folder, self.token_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(folder, 0o700)
        write_private(self.conf_path,
                      f"# SoftHSM configuration of this lab, written by labkit.\n"
                      f"directories.tokendir = {self.token_dir}\n"
                      f"objectstore.backend = file\n"
                      f"log.level = ERROR\n"
                      f"slots.removable = false\n")
        if not self._pins_path().exists():
            # Written once, with the token: a PIN passed later (a wrong one) never replaces it.
            write_private(self._pins_path(),
                          json.dumps({"pin": self.pin.reveal(), "so_pin": self.so_pin.reveal()}))

    def remember_in(self, lab) -> None:
        """Also keep the PINs in the lab's credentials.json (0600), once the lab has one."""
        if lab.credentials is None:
            return
        lab.credentials.add(f"hsm:{self.label}:pin", self.pin.reveal(), "hsm-pin")
        lab.credentials.add(f"hsm:{self.label}:so_pin", self.so_pin.reveal(), "hsm-so-pin")
        lab.credentials.save(lab.workspace)

    # The library -------------------------------------------------------
    def _lib(self):
        """The PKCS#11 library, initialised with this lab's SOFTHSM2_CONF. SoftHSM reads
        the variable at C_Initialize, so switching to another lab's tokens reinitialises
        (which closes the other lab's sessions)."""
        global _active_conf
        pkcs11 = _pkcs11()
        conf = str(self.conf_path)
        with _lock:
            # Set only while SoftHSM initialises: a server started later by this process
            # must not inherit one lab's SOFTHSM2_CONF (its plugin gets its own in the config).
            before = os.environ.get("SOFTHSM2_CONF")
            os.environ["SOFTHSM2_CONF"] = conf
            try:
                lib = pkcs11.lib(str(self.library))
                if _active_conf is not None and _active_conf != conf:
                    _sessions.clear()
                    lib.reinitialize()
                _active_conf = conf
            except pkcs11.PKCS11Error as exc:
                raise HSMError(f"The PKCS#11 library {self.library} could not be loaded or initialised "
                               f"({type(exc).__name__}: {exc}).",
                               f"Check that {self.conf_path} exists (token.ensure() writes it) and that "
                               "libsofthsm2 matches this machine.") from exc
            finally:
                if before is None:
                    os.environ.pop("SOFTHSM2_CONF", None)
                else:
                    os.environ["SOFTHSM2_CONF"] = before
                _clear_openssl_errors()
        return lib

    def _find_token(self):
        pkcs11 = _pkcs11()
        try:
            return self._lib().get_token(token_label=self.label)
        except (pkcs11.NoSuchToken, pkcs11.TokenNotPresent) as exc:
            raise _wrap_error(exc, "looking the token up", self) from None
        except pkcs11.MultipleTokensReturned:
            raise HSMError(f"More than one token is labelled {self.label!r} in {self.token_dir}.",
                           "Delete the duplicates with softhsm2-util --delete-token.") from None

    def exists(self) -> bool:
        if not self.conf_path.exists():
            return False
        try:
            self._find_token()
            return True
        except HSMError:
            return False

    def ensure(self) -> "SoftHSMToken":
        """Create the token (and this lab's SoftHSM config) unless it exists; idempotent."""
        self.library  # noqa: B018 - a missing library is reported before anything is written
        self._write_files()
        if self.exists():
            return self
        if (self.folder / "unplugged" / self.label).is_dir():
            # Left unplugged by an interrupted run: put the same token (and keys) back
            # rather than creating an empty one under the same label.
            self.plug_back()
            return self
        util = shutil.which("softhsm2-util")
        if util is None:
            from ..doctor import _install

            raise FeatureUnavailable("softhsm2-util was not found.", _install("softhsm2", "brew install softhsm"))
        result = subprocess.run(
            [util, "--init-token", "--free", "--label", self.label,
             "--so-pin", self.so_pin.reveal(), "--pin", self.pin.reveal()],
            env={**os.environ, **self.env}, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise HSMError(f"softhsm2-util could not create token {self.label!r}: "
                           f"{redact.redact((result.stderr or result.stdout).strip())}",
                           f"Check that {self.token_dir} is writable.")
        self._forget_session()
        # SoftHSM lists new tokens only after C_Initialize.
        self._reinitialize()
        return self

    # Sessions ----------------------------------------------------------
    def _forget_session(self) -> None:
        with _lock:
            _sessions.pop((str(self.conf_path), self.label), None)

    def _open_session(self):
        pkcs11 = _pkcs11()
        token = self._find_token()
        try:
            return token.open(rw=True, user_pin=self.pin.reveal())
        except pkcs11.UserAlreadyLoggedIn:
            # Another session of this process is logged in; a new one shares that login.
            return token.open(rw=True)
        except pkcs11.PKCS11Error as exc:
            raise _wrap_error(exc, "logging in", self) from None

    @contextlib.contextmanager
    def session(self):
        """A logged-in read-write session (shared, so re-running a cell is safe)."""
        pkcs11 = _pkcs11()
        key = (str(self.conf_path), self.label)
        with _lock:
            sess = _sessions.get(key)
            if sess is None:
                sess = self._open_session()
                _sessions[key] = sess
            try:
                yield sess
            except (pkcs11.SessionHandleInvalid, pkcs11.SessionClosed, pkcs11.DeviceRemoved,
                    pkcs11.TokenNotPresent) as exc:
                _sessions.pop(key, None)
                raise _wrap_error(exc, "using the session", self) from None

    def close(self) -> None:
        """Log out and close this token's session (the next call opens a new one)."""
        with _lock:
            sess = _sessions.pop((str(self.conf_path), self.label), None)
        if sess is not None:
            with contextlib.suppress(Exception):
                sess.close()

    def login_check(self) -> None:
        """Open a fresh session with the stored PIN: raises a clear error if the PIN is wrong."""
        self.close()
        with self.session():
            pass

    # Discovery ---------------------------------------------------------
    def slots(self) -> list[dict]:
        """Every slot of the library and the token in it (initialised or free)."""
        pkcs11 = _pkcs11()
        rows = []
        for slot in self._lib().get_slots():
            row = {"slot_id": slot.slot_id, "description": slot.slot_description.strip(), "token": None}
            try:
                tok = slot.get_token()
                row["token"] = tok.label.strip() or None
                row["initialised"] = bool(tok.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED)
                row["serial"] = tok.serial.decode() if isinstance(tok.serial, bytes) else str(tok.serial)
            except pkcs11.PKCS11Error:
                pass
            rows.append(row)
        return rows

    def token_info(self) -> dict:
        tok = self._find_token()
        return {"label": tok.label.strip(), "manufacturer": tok.manufacturer_id.strip(),
                "model": tok.model.strip(), "serial": tok.serial.decode() if isinstance(tok.serial, bytes)
                else str(tok.serial), "slot_id": tok.slot.slot_id, "flags": str(tok.flags)}

    def mechanisms(self) -> list[str]:
        """Mechanism names the token supports (CKM_AES_GCM, CKM_RSA_PKCS_OAEP...)."""
        return sorted(f"CKM_{m.name}" if hasattr(m, "name") else str(m)
                      for m in self._find_token().slot.get_mechanisms())

    def objects(self) -> list[ObjectInfo]:
        """Every object on the token with its public attributes."""
        pkcs11 = _pkcs11()
        A = pkcs11.Attribute
        out = []
        with self.session() as sess:
            for obj in sess.get_objects():
                def attr(name, default=None):
                    try:
                        return obj[name]
                    except pkcs11.PKCS11Error:
                        return default
                key_type = attr(A.KEY_TYPE)
                bits = attr(A.VALUE_LEN)
                bits = bits * 8 if bits else attr(A.MODULUS_BITS)
                out.append(ObjectInfo(
                    label=attr(A.LABEL, ""), object_class=obj.object_class.name,
                    key_type=key_type.name if key_type is not None else None, bits=bits,
                    sensitive=attr(A.SENSITIVE), extractable=attr(A.EXTRACTABLE), token=attr(A.TOKEN)))
        return sorted(out, key=lambda o: (o.label, o.object_class))

    def attributes(self, label: str) -> dict:
        """Public attributes of the secret or private key ``label`` (its value stays inside)."""
        for obj in self.objects():
            if obj.label == label and obj.object_class in ("SECRET_KEY", "PRIVATE_KEY"):
                return obj.as_dict()
        raise HSMError(f"No key {label!r} on token {self.label!r} ({self.token_dir}).",
                       f"Create it first, e.g. token.aes_key({label!r}).")

    def has_key(self, label: str) -> bool:
        pkcs11 = _pkcs11()
        with self.session() as sess:
            return any(True for _ in sess.get_objects({pkcs11.Attribute.LABEL: label}))

    # Keys ----------------------------------------------------------------
    def _secret_key(self, sess, label: str, action: str):
        pkcs11 = _pkcs11()
        try:
            return sess.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY, label=label)
        except pkcs11.PKCS11Error as exc:
            raise _wrap_error(exc, action, self, label) from None

    def aes_key(self, label: str, extractable: bool = False, bits: int = 256):
        """The AES key ``label``, generated inside the token if absent: persistent,
        sensitive, non-extractable by default; usable for encrypt/decrypt and wrap."""
        pkcs11 = _pkcs11()
        A = pkcs11.Attribute
        with self.session() as sess:
            try:
                return sess.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY, label=label)
            except pkcs11.NoSuchKey:
                pass
            except pkcs11.PKCS11Error as exc:
                raise _wrap_error(exc, "looking a key up", self, label) from None
            try:
                return sess.generate_key(pkcs11.KeyType.AES, bits, label=label, store=True, template={
                    A.SENSITIVE: True, A.EXTRACTABLE: bool(extractable), A.ENCRYPT: True, A.DECRYPT: True,
                    A.WRAP: True, A.UNWRAP: True, A.PRIVATE: True})
            except pkcs11.PKCS11Error as exc:
                raise _wrap_error(exc, "generating an AES key", self, label) from None

    def rsa_key(self, label: str, bits: int = 2048, extractable: bool = False):
        """The RSA key pair ``label`` (public, private), generated inside the token if absent."""
        pkcs11 = _pkcs11()
        A = pkcs11.Attribute
        with self.session() as sess:
            try:
                return (sess.get_key(object_class=pkcs11.ObjectClass.PUBLIC_KEY, label=label),
                        sess.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=label))
            except pkcs11.NoSuchKey:
                pass
            try:
                return sess.generate_keypair(
                    pkcs11.KeyType.RSA, bits, label=label, store=True,
                    private_template={A.SENSITIVE: True, A.EXTRACTABLE: bool(extractable),
                                      A.DECRYPT: True, A.SIGN: True, A.UNWRAP: True, A.PRIVATE: True})
            except pkcs11.PKCS11Error as exc:
                raise _wrap_error(exc, "generating an RSA key pair", self, label) from None

    def destroy(self, label: str) -> int:
        """Delete every object labelled ``label``; returns how many were deleted."""
        pkcs11 = _pkcs11()
        with self.session() as sess:
            objs = list(sess.get_objects({pkcs11.Attribute.LABEL: label}))
            for obj in objs:
                obj.destroy()
        return len(objs)

    def destroy_token(self) -> None:
        """Remove the token with all its keys (what "the HSM is gone" looks like)."""
        self.close()
        util = shutil.which("softhsm2-util")
        if util and self.exists():
            subprocess.run([util, "--delete-token", "--token", self.label], env={**os.environ, **self.env},
                           capture_output=True, text=True, timeout=60)
        self._reset_library()

    def unplug(self) -> Path:
        """Take the token out (its folder moves to ``hsm/unplugged/``), as pulling an HSM
        or losing its network would; :meth:`plug_back` returns it with its keys."""
        self.close()
        folder = self._token_folder()
        if folder is None:
            raise HSMError(f"There is no token {self.label!r} in {self.token_dir} to unplug.",
                           "Create it with token.ensure(), or plug it back with token.plug_back().")
        parked = self.folder / "unplugged" / self.label
        parked.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if parked.exists():
            shutil.rmtree(parked)
        shutil.move(str(folder), str(parked))
        self._reset_library()
        return parked

    def plug_back(self) -> None:
        """Return a token taken out with :meth:`unplug`."""
        parked = self.folder / "unplugged" / self.label
        if not parked.is_dir():
            raise HSMError(f"Token {self.label!r} was not unplugged (nothing in {parked}).",
                           "Only a token taken out with token.unplug() can be plugged back.")
        uuid_name = (parked / ".uuid").read_text().strip() if (parked / ".uuid").exists() else parked.name
        shutil.move(str(parked), str(self.token_dir / uuid_name))
        self._reset_library()

    def _token_folder(self) -> Path | None:
        """The token's folder under ``tokens/`` (SoftHSM names it by UUID and keeps the
        serial number in its token.object)."""
        try:
            serial = self._find_token().serial
        except HSMError:
            return None
        serial = serial.decode() if isinstance(serial, bytes) else str(serial)
        for folder in self.token_dir.iterdir():
            token_file = folder / "token.object"
            if token_file.is_file() and serial.encode() in token_file.read_bytes():
                (folder / ".uuid").write_text(folder.name)
                return folder
        return None

    def _reset_library(self) -> None:
        with _lock:
            if _active_conf == str(self.conf_path):
                with contextlib.suppress(Exception):
                    self._reinitialize()
            _sessions.clear()

    def _reinitialize(self) -> None:
        """C_Finalize + C_Initialize with this lab's SOFTHSM2_CONF."""
        global _active_conf
        with _lock:
            self._lib()
            _active_conf = ""  # differs from every conf: _lib() reinitialises
            self._lib()
            _sessions.clear()

    # Crypto ----------------------------------------------------------------
    def encrypt(self, key_label: str, plaintext: bytes, aad: bytes = b"") -> bytes:
        """AES-GCM inside the token; returns nonce (12 bytes) + ciphertext + tag."""
        pkcs11 = _pkcs11()
        nonce = os.urandom(GCM_NONCE_BYTES)
        with self.session() as sess:
            key = self._secret_key(sess, key_label, "encrypting")
            try:
                ct = key.encrypt(plaintext, mechanism=pkcs11.Mechanism.AES_GCM,
                                 mechanism_param=pkcs11.GCMParams(nonce, aad, GCM_TAG_BITS))
            except pkcs11.PKCS11Error as exc:
                raise _wrap_error(exc, "encrypting", self, key_label) from None
        return nonce + bytes(ct)

    def decrypt(self, key_label: str, blob: bytes, aad: bytes = b"") -> bytes:
        """Reverse :meth:`encrypt`; a changed blob or AAD is a clear error."""
        pkcs11 = _pkcs11()
        if len(blob) < GCM_NONCE_BYTES + GCM_TAG_BITS // 8:
            raise HSMError("The ciphertext is too short to be AES-GCM output of this token.",
                           "Pass the bytes token.encrypt() returned.")
        nonce, ct = blob[:GCM_NONCE_BYTES], blob[GCM_NONCE_BYTES:]
        with self.session() as sess:
            key = self._secret_key(sess, key_label, "decrypting")
            try:
                return bytes(key.decrypt(ct, mechanism=pkcs11.Mechanism.AES_GCM,
                                         mechanism_param=pkcs11.GCMParams(nonce, aad, GCM_TAG_BITS)))
            except (pkcs11.EncryptedDataInvalid, pkcs11.GeneralError) as exc:
                # SoftHSM answers a failed GCM tag check with CKR_GENERAL_ERROR.
                raise HSMError(f"Decryption with {key_label!r} failed: the ciphertext or its AAD was altered, "
                               "or another key encrypted it.",
                               "Decrypt with the key and AAD used to encrypt.") from exc
            except pkcs11.PKCS11Error as exc:
                raise _wrap_error(exc, "decrypting", self, key_label) from None

    def wrap(self, wrapping_label: str, key_label: str) -> bytes:
        """Export the AES key ``key_label`` encrypted under ``wrapping_label``
        (CKM_AES_KEY_WRAP_PAD); fails clearly for a non-extractable key."""
        pkcs11 = _pkcs11()
        with self.session() as sess:
            wrapping = self._secret_key(sess, wrapping_label, "wrapping")
            key = self._secret_key(sess, key_label, "wrapping")
            try:
                return bytes(wrapping.wrap_key(key, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD))
            except pkcs11.PKCS11Error as exc:
                raise _wrap_error(exc, "wrapping", self, key_label) from None

    def unwrap(self, wrapping_label: str, wrapped: bytes, label: str, extractable: bool = False):
        """Import a wrapped AES key as ``label`` (stored on the token)."""
        pkcs11 = _pkcs11()
        A = pkcs11.Attribute
        with self.session() as sess:
            wrapping = self._secret_key(sess, wrapping_label, "unwrapping")
            try:
                return wrapping.unwrap_key(
                    pkcs11.ObjectClass.SECRET_KEY, pkcs11.KeyType.AES, wrapped, label=label, store=True,
                    mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD,
                    template={A.SENSITIVE: True, A.EXTRACTABLE: bool(extractable), A.ENCRYPT: True,
                              A.DECRYPT: True, A.PRIVATE: True})
            except pkcs11.PKCS11Error as exc:
                raise _wrap_error(exc, "unwrapping", self, label) from None
