"""The lab's KMIP server process: PyKMIP's server with its cryptography moved into
SoftHSM. Run by :class:`labkit.seals.kmip.LabKmipServer` through the supervisor::

    python -m labkit.seals.kmip_server LAB_FOLDER CONFIG TOKEN_LABEL LOG

PyKMIP keeps its managed objects (owner, state, usage mask) in SQLite; for the AES
keys it creates, the bytes it stores are only a reference (``HSM:<label>``) to a key
generated inside the SoftHSM token, sensitive and not extractable. Encrypt and Decrypt
with such a key run as CKM_AES_GCM inside the token: the key never exists in this
process's memory.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # PyKMIP names ciphers that cryptography moved to its "decrepit" module.
    warnings.simplefilter("ignore")
    from kmip.core import enums
    from kmip.core import exceptions as kmip_errors
    from kmip.services.server.crypto.engine import CryptographyEngine

REF_PREFIX = b"HSM:"
KEY_LABEL_PREFIX = "kmip-"
REF_BYTES = 32  # PyKMIP checks that a 256-bit key's value has 32 bytes


def key_reference(label: str) -> bytes:
    ref = REF_PREFIX + label.encode()
    if len(ref) != REF_BYTES:
        raise ValueError("bad label length")
    return ref


def new_key_label() -> str:
    return KEY_LABEL_PREFIX + secrets.token_hex(16)[: REF_BYTES - len(REF_PREFIX) - len(KEY_LABEL_PREFIX)]


class SoftHSMCryptographyEngine(CryptographyEngine):
    """PyKMIP's engine with AES-256 keys created and used inside a SoftHSM token."""

    def __init__(self, token):
        super().__init__()
        self.token = token
        self._lock = threading.Lock()  # PyKMIP runs one thread per connection

    def _key(self, sess, ref: bytes):
        import pkcs11

        return sess.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY, label=ref[len(REF_PREFIX):].decode())

    def create_symmetric_key(self, algorithm, length):
        if algorithm != enums.CryptographicAlgorithm.AES or length != 256:
            raise kmip_errors.InvalidField("This lab KMIP server creates AES-256 keys only (held in SoftHSM).")
        label = new_key_label()
        with self._lock:
            self.token.aes_key(label)
        self.logger.info("Created AES-256 key %s inside SoftHSM token %s", label, self.token.label)
        return {"value": key_reference(label), "format": enums.KeyFormatType.RAW}

    def encrypt(self, encryption_algorithm, encryption_key, plain_text, cipher_mode=None, padding_method=None,
                iv_nonce=None, auth_additional_data=None, auth_tag_length=None, hashing_algorithm=None):
        if not encryption_key.startswith(REF_PREFIX):
            return super().encrypt(encryption_algorithm, encryption_key, plain_text, cipher_mode, padding_method,
                                   iv_nonce, auth_additional_data, auth_tag_length, hashing_algorithm)
        import pkcs11

        if cipher_mode != enums.BlockCipherMode.GCM:
            raise kmip_errors.InvalidField("Keys held in SoftHSM are used with AES-GCM only.")
        tag_len = auth_tag_length or 16
        nonce = iv_nonce or os.urandom(12)
        with self._lock, self.token.session() as sess:
            try:
                out = bytes(self._key(sess, encryption_key).encrypt(
                    plain_text, mechanism=pkcs11.Mechanism.AES_GCM,
                    mechanism_param=pkcs11.GCMParams(nonce, auth_additional_data or b"", tag_len * 8)))
            except pkcs11.PKCS11Error as exc:
                raise kmip_errors.CryptographicFailure(f"SoftHSM AES-GCM encrypt failed: {type(exc).__name__}")
        result = {"cipher_text": out[:-tag_len], "auth_tag": out[-tag_len:]}
        if iv_nonce is None:
            result["iv_nonce"] = nonce
        return result

    def decrypt(self, decryption_algorithm, decryption_key, cipher_text, cipher_mode=None, padding_method=None,
                iv_nonce=None, auth_additional_data=None, auth_tag=None, hashing_algorithm=None):
        if not decryption_key.startswith(REF_PREFIX):
            return super().decrypt(decryption_algorithm, decryption_key, cipher_text, cipher_mode, padding_method,
                                   iv_nonce, auth_additional_data, auth_tag, hashing_algorithm)
        import pkcs11

        if cipher_mode != enums.BlockCipherMode.GCM or not auth_tag or not iv_nonce:
            raise kmip_errors.InvalidField("AES-GCM decryption needs the IV and the authentication tag.")
        with self._lock, self.token.session() as sess:
            try:
                return bytes(self._key(sess, decryption_key).decrypt(
                    cipher_text + auth_tag, mechanism=pkcs11.Mechanism.AES_GCM,
                    mechanism_param=pkcs11.GCMParams(iv_nonce, auth_additional_data or b"", len(auth_tag) * 8)))
            except pkcs11.PKCS11Error as exc:
                raise kmip_errors.CryptographicFailure(f"SoftHSM AES-GCM decrypt failed: {type(exc).__name__}")


def main(argv: list[str]) -> int:
    lab_folder, config, token_label, log_path = argv
    from kmip.services.server import KmipServer

    from ..hsm.softhsm import SoftHSMToken

    token = SoftHSMToken(Path(lab_folder), token_label)
    with token.session():
        pass  # log in now: a wrong PIN or missing token stops the server with a clear error
    policy_dir = Path(lab_folder) / "config" / "kmip-policies"
    policy_dir.mkdir(exist_ok=True, mode=0o700)
    server = KmipServer(config_path=config, log_path=log_path, policy_path=str(policy_dir),
                        live_policies=False)
    server.start()
    server._engine._cryptography_engine = SoftHSMCryptographyEngine(token)
    # accept() blocks for 10 s by default: SIGTERM would wait that long.
    server._socket.settimeout(0.25)
    print(f"lab KMIP server ready on {server.config.settings.get('hostname')}:"
          f"{server.config.settings.get('port')}, keys in SoftHSM token {token_label}", flush=True)
    try:
        server.serve()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
