"""JWT issuing for the lab identity provider: an RSA signing key kept in the lab
folder (0600), RS256 tokens, and the JWKS document that publishes the public key.

Built on ``cryptography`` alone so the bytes on the wire are visible: a JWT is
``base64url(header) . base64url(claims) . base64url(signature)``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ..errors import LabError
from ..redact import Secret, register
from ..workspace import write_private


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def decode_unverified(token) -> tuple[dict, dict]:
    """Header and claims of a JWT, without checking the signature (for display)."""
    text = token.reveal() if hasattr(token, "reveal") else str(token)
    try:
        header, claims, _ = text.split(".")
        return json.loads(b64url_decode(header)), json.loads(b64url_decode(claims))
    except ValueError as exc:
        raise LabError("That is not a JWT (three base64url parts separated by dots).",
                       "Pass the token returned by idp.issue(...).") from exc


class JwtIssuer:
    """Signs JWTs with a per-lab RSA key stored in ``folder``."""

    def __init__(self, folder: Path, issuer: str, kid: str = "lab-key-1"):
        self.folder = Path(folder)
        self.issuer = issuer.rstrip("/")
        self.kid = kid
        self.key_path = self.folder / "signing-key.pem"
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.key_path.exists():
            pem = self.key_path.read_bytes()
            self._key = serialization.load_pem_private_key(pem, password=None)
        else:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())
            write_private(self.key_path, pem.decode())
        register(pem.decode(), "private-key")

    def __repr__(self) -> str:
        return f"JwtIssuer(issuer={self.issuer!r}, kid={self.kid!r}, key=<private>)"

    def public_pem(self) -> str:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def jwks(self) -> dict:
        """The JSON Web Key Set with the public key (what ``jwks_url`` serves)."""
        numbers = self._key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                          "n": b64url(_int_bytes(numbers.n)), "e": b64url(_int_bytes(numbers.e))}]}

    def discovery(self) -> dict:
        """The OpenID Connect discovery document (``/.well-known/openid-configuration``)."""
        return {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks.json",
                "authorization_endpoint": f"{self.issuer}/authorize", "token_endpoint": f"{self.issuer}/token",
                "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"]}

    def issue(self, subject: str, audience: str | list[str], ttl: int = 300, claims: dict | None = None,
              not_before: int | None = None, issued_at: int | None = None) -> Secret:
        """A signed RS256 JWT for ``subject``; returned as a masked :class:`Secret`
        (``.reveal()`` gives the compact string)."""
        if not subject:
            raise LabError("A JWT needs a subject.", "Pass subject='some-user' (the `sub` claim).")
        if not audience:
            raise LabError("A JWT needs an audience.",
                           "Pass audience='...' matching the role's bound_audiences.")
        now = int(time.time()) if issued_at is None else issued_at
        body = {"iss": self.issuer, "sub": subject, "aud": audience, "iat": now,
                "nbf": now if not_before is None else not_before, "exp": now + ttl, "jti": str(uuid.uuid4())}
        body.update(claims or {})
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return Secret(f"{signing_input}.{b64url(signature)}", "jwt")
