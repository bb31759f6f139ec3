"""Transit: encryption as a service. Encrypt, decrypt, rotate, rewrap, sign, verify.

The key never leaves the server. Every ciphertext says which key version made it
(``vault:v2:...``); rotation adds a version, ``rewrap`` moves old ciphertexts to the
latest version without showing the plaintext, and ``min_decryption_version`` retires
old versions.
"""

from __future__ import annotations

import base64
import html
import re

import hvac
from hvac.exceptions import InvalidPath, InvalidRequest, ParamValidationError

from ..errors import LabError
from .engines import enable_engine

_CIPHERTEXT = re.compile(r"^vault:v(\d+):")


def _b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def ciphertext_version(ciphertext: str) -> int:
    """The key version a transit ciphertext or signature was made with."""
    match = _CIPHERTEXT.match(ciphertext or "")
    if not match:
        raise LabError(f"{ciphertext[:24]!r}... is not a transit ciphertext.",
                       "Transit ciphertexts start with 'vault:vN:'; pass what encrypt() returned.")
    return int(match.group(1))


class Transit:
    """A transit engine at ``mount``."""

    def __init__(self, client: hvac.Client, mount: str = "transit-lab"):
        self.client = client
        self.mount = mount.strip("/")
        self._api = client.secrets.transit

    def __repr__(self) -> str:
        return f"Transit(mount={self.mount!r})"

    def enable(self, fresh: bool = True) -> "Transit":
        """``POST /v1/sys/mounts/:mount`` (transit)."""
        enable_engine(self.client, "transit", self.mount, fresh=fresh)
        return self

    def create_key(self, name: str, key_type: str = "aes256-gcm96") -> dict:
        """``POST /v1/:mount/keys/:name``; ``ed25519``/``ecdsa-p256``/``rsa-2048`` keys sign."""
        try:
            self._api.create_key(name=name, key_type=key_type, mount_point=self.mount)
        except (InvalidRequest, ParamValidationError) as exc:
            raise LabError(f"Cannot create transit key {name!r} of type {key_type!r}: {exc}",
                           "Key types: aes256-gcm96, chacha20-poly1305, ed25519, ecdsa-p256, rsa-2048, ...") from None
        return self.key(name)

    def key(self, name: str) -> dict:
        """``GET /v1/:mount/keys/:name``: versions, min decryption version, type (no key material)."""
        try:
            return self._api.read_key(name=name, mount_point=self.mount)["data"]
        except InvalidPath:
            raise LabError(f"No transit key {name!r} at {self.mount}/.", "Create it with create_key(name).") from None

    def encrypt(self, name: str, plaintext: str | bytes) -> str:
        """``POST /v1/:mount/encrypt/:name``; the plaintext travels base64-encoded."""
        return self._api.encrypt_data(name=name, plaintext=_b64(plaintext), mount_point=self.mount)["data"]["ciphertext"]

    def decrypt(self, name: str, ciphertext: str) -> str:
        """``POST /v1/:mount/decrypt/:name``."""
        try:
            resp = self._api.decrypt_data(name=name, ciphertext=ciphertext, mount_point=self.mount)
        except InvalidRequest as exc:
            version = ciphertext_version(ciphertext)
            minimum = self.key(name)["min_decryption_version"]
            if version < minimum:
                raise LabError(
                    f"Key version {version} is retired: {name!r} decrypts only from version {minimum} on.",
                    "Rewrap ciphertexts before raising min_decryption_version, or lower it again.") from None
            raise LabError(f"Decryption with {name!r} failed: {exc}",
                           "Pass a ciphertext made by this key, unchanged.") from None
        return base64.b64decode(resp["data"]["plaintext"]).decode()

    def rotate(self, name: str) -> int:
        """``POST /v1/:mount/keys/:name/rotate``; returns the new latest version."""
        self._api.rotate_key(name=name, mount_point=self.mount)
        return self.key(name)["latest_version"]

    def rewrap(self, name: str, ciphertext: str) -> str:
        """``POST /v1/:mount/rewrap/:name``: re-encrypt with the latest version, server-side."""
        return self._api.rewrap_data(name=name, ciphertext=ciphertext, mount_point=self.mount)["data"]["ciphertext"]

    def set_min_decryption_version(self, name: str, version: int) -> dict:
        """``POST /v1/:mount/keys/:name/config``."""
        latest = self.key(name)["latest_version"]
        if not 1 <= version <= latest:
            raise LabError(f"min_decryption_version {version} is outside 1..{latest}.",
                           f"Pick a version between 1 and the latest ({latest}).")
        self._api.update_key_configuration(name=name, min_decryption_version=version, mount_point=self.mount)
        return self.key(name)

    def sign(self, name: str, message: str | bytes, hash_algorithm: str = "sha2-256") -> str:
        """``POST /v1/:mount/sign/:name/:hash``; returns ``vault:vN:<signature>``."""
        try:
            resp = self._api.sign_data(name=name, hash_input=_b64(message), hash_algorithm=hash_algorithm,
                                       mount_point=self.mount)
        except InvalidRequest as exc:
            raise LabError(f"Key {name!r} cannot sign: {exc}",
                           "Signing needs an asymmetric key: create_key(name, 'ed25519') or 'ecdsa-p256'.") from None
        return resp["data"]["signature"]

    def verify(self, name: str, message: str | bytes, signature: str, hash_algorithm: str = "sha2-256") -> bool:
        """``POST /v1/:mount/verify/:name/:hash``."""
        resp = self._api.verify_signed_data(name=name, hash_input=_b64(message), signature=signature,
                                            hash_algorithm=hash_algorithm, mount_point=self.mount)
        return bool(resp["data"]["valid"])

    def picture(self, name: str, ciphertexts: dict[str, str] | None = None) -> "KeyVersionsPicture":
        """A drawing of the key's versions and which version each ciphertext uses."""
        return key_versions_picture(self.key(name), ciphertexts or {})


class KeyVersionsPicture:
    """Key versions as boxes (latest encrypts, others decrypt, retired ones don't),
    with each labelled ciphertext pointing at its version. SVG with a text fallback."""

    COLOURS = {"encrypts": "#1a7f37", "decrypts": "#0969da", "retired": "#8c959f"}

    def __init__(self, key: dict, ciphertexts: dict[str, str]):
        self.name = key["name"]
        self.latest = int(key["latest_version"])
        self.min_decrypt = int(key.get("min_decryption_version") or 1)
        self.uses = {label: ciphertext_version(ct) for label, ct in ciphertexts.items()}

    def role(self, version: int) -> str:
        if version < self.min_decrypt:
            return "retired"
        return "encrypts" if version == self.latest else "decrypts"

    def svg(self) -> str:
        box_w, gap, top = 96, 24, 34
        # Newest version first: each label's line then never crosses another label's text.
        labels = sorted(self.uses.items(), key=lambda item: -item[1])
        width = 40 + self.latest * (box_w + gap) + 280
        height = top + 60 + 26 * max(1, len(labels))
        x_of = {v: 20 + (v - 1) * (box_w + gap) for v in range(1, self.latest + 1)}
        parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
                 f"font-family='sans-serif' font-size='12'>",
                 f"<text x='20' y='20' font-weight='bold'>transit key {html.escape(self.name)}</text>"]
        for v, x in x_of.items():
            colour = self.COLOURS[self.role(v)]
            parts.append(f"<rect x='{x}' y='{top}' width='{box_w}' height='40' rx='6' fill='{colour}' "
                         f"fill-opacity='0.15' stroke='{colour}' stroke-width='2'/>")
            parts.append(f"<text x='{x + box_w / 2}' y='{top + 17}' text-anchor='middle' font-weight='bold'>v{v}</text>")
            parts.append(f"<text x='{x + box_w / 2}' y='{top + 32}' text-anchor='middle' fill='{colour}'>"
                         f"{self.role(v)}</text>")
        for i, (label, v) in enumerate(labels):
            y = top + 70 + 26 * i
            x = x_of.get(v, 20) + box_w / 2
            readable = v >= self.min_decrypt
            colour = "#1f2328" if readable else "#cf222e"
            parts.append(f"<line x1='{x}' y1='{top + 40}' x2='{x}' y2='{y - 12}' stroke='{colour}' "
                         f"stroke-dasharray='{'0' if readable else '4 3'}'/>")
            parts.append(f"<text x='{x + 6}' y='{y}' fill='{colour}'>{html.escape(label)} (vault:v{v}:…)"
                         f"{'' if readable else ' cannot be decrypted'}</text>")
        parts.append("</svg>")
        return "".join(parts)

    def __str__(self) -> str:
        lines = [f"transit key {self.name}: latest v{self.latest}, decrypts from v{self.min_decrypt}"]
        for v in range(1, self.latest + 1):
            users = [label for label, used in self.uses.items() if used == v]
            lines.append(f"  v{v} [{self.role(v)}]" + (f" <- {', '.join(users)}" if users else ""))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_mimebundle_(self, **kwargs):
        return {"text/plain": str(self), "text/html": f"<div class='labkit-transit'>{self.svg()}</div>"}


def key_versions_picture(key: dict, ciphertexts: dict[str, str] | None = None) -> KeyVersionsPicture:
    """Draw ``key`` (from :meth:`Transit.key`) and the versions ``ciphertexts`` use."""
    return KeyVersionsPicture(key, ciphertexts or {})
