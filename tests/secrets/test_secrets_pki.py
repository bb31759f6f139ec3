import datetime as dt

import pytest

from labkit.errors import LabError
from labkit.redact import redact
from labkit.secrets import PKIHierarchy


@pytest.fixture(scope="module")
def pki(lab):
    pki = PKIHierarchy(lab.client, root_mount="pki-root-t", int_mount="pki-int-t")
    root = pki.build_root("Test Root CA")
    inter = pki.build_intermediate("Test Intermediate CA")
    assert root.subject == root.issuer
    assert inter.issuer == root.subject
    pki.create_role("web", ["lab.example"], max_ttl="48h")
    return pki


def test_issued_certificate_verifies_with_cryptography(pki):
    leaf = pki.issue("web", "app.lab.example", ttl="1h", alt_names=["api.lab.example"])
    assert set(leaf.dns_names) == {"app.lab.example", "api.lab.example"}
    result = pki.verify(leaf)
    assert result.valid, result.error
    assert result.path == ["CN=app.lab.example", "CN=Test Intermediate CA", "CN=Test Root CA"]
    assert pki.verify(leaf, "api.lab.example").valid
    assert not pki.verify(leaf, "other.example").valid
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    expired = pki.verify(leaf, at=later)
    assert not expired.valid and "not valid at validation time" in expired.error
    assert len(pki.chain_table(leaf)) == 3


def test_private_key_is_masked(pki):
    leaf = pki.issue("web", "db.lab.example")
    key = leaf.private_key.reveal()
    assert "PRIVATE KEY" in key
    assert "PRIVATE KEY" not in repr(leaf)
    assert key not in redact(f"key: {key}")


def test_revocation_lands_on_the_crl(pki):
    leaf = pki.issue("web", "gone.lab.example")
    keep = pki.issue("web", "kept.lab.example")
    assert not pki.is_revoked(leaf)
    when = pki.revoke(leaf.serial_number)
    assert abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) < 120
    assert pki.is_revoked(leaf)
    assert not pki.is_revoked(keep)
    assert leaf.serial_number.replace(":", "") in pki.crl_table().column("serial (hex)")


def test_role_limits_get_clear_errors(pki):
    with pytest.raises(LabError, match="does not allow 'evil.com'"):
        pki.issue("web", "evil.com")
    with pytest.raises(LabError, match="no role 'nope'"):
        pki.issue("nope", "a.lab.example")


def test_intermediate_needs_root(lab):
    with pytest.raises(LabError, match="build_root"):
        PKIHierarchy(lab.client, "pki-r2", "pki-i2").build_intermediate()
