"""Hardware security modules for the lab: a SoftHSM token per lab
(:mod:`labkit.hsm.softhsm`) and the PKCS#11 KMS plugin that lets OpenBao seal
through it (:mod:`labkit.hsm.kms_plugin`)."""

from .softhsm import HSMError, ObjectInfo, SoftHSMToken

__all__ = ["HSMError", "ObjectInfo", "SoftHSMToken"]
