import pytest

from labkit.errors import LabError
from labkit.secrets import Transit
from labkit.secrets.transit import ciphertext_version


@pytest.fixture(scope="module")
def transit(lab):
    return Transit(lab.client, mount="transit-test").enable()


def test_encrypt_rotate_rewrap_retire(transit):
    transit.create_key("orders")
    old = transit.encrypt("orders", "card 4111")
    assert ciphertext_version(old) == 1 and "4111" not in old
    assert transit.decrypt("orders", old) == "card 4111"
    assert transit.rotate("orders") == 2
    assert ciphertext_version(transit.encrypt("orders", "x")) == 2
    new = transit.rewrap("orders", old)
    assert ciphertext_version(new) == 2 and new != old
    assert transit.decrypt("orders", new) == "card 4111"
    assert transit.set_min_decryption_version("orders", 2)["min_decryption_version"] == 2
    with pytest.raises(LabError, match="retired"):
        transit.decrypt("orders", old)
    with pytest.raises(LabError, match="outside 1..2"):
        transit.set_min_decryption_version("orders", 3)

    picture = transit.picture("orders", {"old": old, "rewrapped": new})
    text = str(picture)
    assert "v1 [retired] <- old" in text and "v2 [encrypts] <- rewrapped" in text
    svg = picture._repr_mimebundle_()["text/html"]
    assert "<svg" in svg and "cannot be decrypted" in svg and svg.count("<rect") == 2


def test_sign_and_verify(transit):
    transit.create_key("signer", "ed25519")
    signature = transit.sign("signer", "release 1.0")
    assert signature.startswith("vault:v1:")
    assert transit.verify("signer", "release 1.0", signature)
    assert not transit.verify("signer", "release 1.1", signature)


def test_clear_errors(transit):
    transit.create_key("aes")
    with pytest.raises(LabError, match="asymmetric key"):
        transit.sign("aes", "m")
    with pytest.raises(LabError, match="No transit key"):
        transit.key("missing")
    with pytest.raises(LabError, match="not a transit ciphertext"):
        ciphertext_version("hello")
    with pytest.raises(LabError, match="Cannot create transit key"):
        transit.create_key("bad", "rot13")
    with pytest.raises(LabError, match="failed"):
        transit.decrypt("aes", transit.encrypt("aes", "x")[:-4] + "AAAA")
