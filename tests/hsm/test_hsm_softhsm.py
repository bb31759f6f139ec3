"""SoftHSM tokens on the real SoftHSM library: one token folder per lab, keys that stay
inside, AES-GCM, wrap/unwrap, and errors that say what went wrong."""

from __future__ import annotations

import os
import stat

import pytest

from labkit import redact
from labkit.errors import LabError
from labkit.hsm import HSMError, SoftHSMToken
from labkit.hsm.softhsm import find_library
from labkit.workspace import Workspace


@pytest.fixture
def token(lab_home):
    tok = SoftHSMToken(Workspace("hsmtest").ensure(), "lab-hsm").ensure()
    yield tok
    tok.close()


def test_token_lives_in_the_lab_folder_with_private_pins(token, lab_home):
    assert token.conf_path.is_file()
    assert str(token.token_dir) in token.conf_path.read_text()
    assert any(token.token_dir.iterdir()), "SoftHSM wrote no token folder into the lab"
    pins = token.folder / "lab-hsm.pins.json"
    assert stat.S_IMODE(pins.stat().st_mode) == 0o600
    assert "****" in repr(token.pin) and token.pin.reveal() not in repr(token)
    assert redact.redact(f"pin={token.pin.reveal()}") == "pin=<redacted:hsm-pin>"
    # A second object for the same label reads the stored PIN and finds the token.
    again = SoftHSMToken(Workspace("hsmtest"), "lab-hsm").ensure()
    assert again.pin == token.pin
    labels = [s["token"] for s in token.slots()]
    assert "lab-hsm" in labels


def test_aes_key_is_sensitive_and_not_extractable_and_gcm_roundtrips(token):
    token.aes_key("k1")
    token.aes_key("k1")  # idempotent: a re-run cell does not make a second key
    assert [o.label for o in token.objects()].count("k1") == 1
    attrs = token.attributes("k1")
    assert attrs["sensitive"] is True and attrs["extractable"] is False and attrs["bits"] == 256
    blob = token.encrypt("k1", b"secret data", aad=b"ctx")
    assert b"secret data" not in blob
    assert token.decrypt("k1", blob, aad=b"ctx") == b"secret data"
    with pytest.raises(HSMError, match="altered"):
        token.decrypt("k1", blob, aad=b"other")
    assert "CKM_AES_GCM" in token.mechanisms()


def test_wrap_refuses_non_extractable_and_roundtrips_extractable(token):
    token.aes_key("kek")
    token.aes_key("locked")
    token.aes_key("movable", extractable=True)
    with pytest.raises(HSMError, match="not extractable"):
        token.wrap("kek", "locked")
    wrapped = token.wrap("kek", "movable")
    token.unwrap("kek", wrapped, "imported")
    blob = token.encrypt("movable", b"x")
    assert token.decrypt("imported", blob) == b"x"
    assert token.destroy("imported") == 1
    assert not token.has_key("imported")


def test_rsa_key_pair_private_half_is_sensitive(token):
    public, private = token.rsa_key("signer")
    assert public.key_length == 2048
    attrs = token.attributes("signer")
    assert attrs["object_class"] == "PRIVATE_KEY" and attrs["sensitive"] and not attrs["extractable"]


def test_clear_errors_for_wrong_pin_missing_key_and_missing_token(token):
    token.aes_key("k1")
    bad = SoftHSMToken(Workspace("hsmtest"), "lab-hsm", pin="not-the-pin")
    with pytest.raises(HSMError, match="PIN .* is wrong"):
        bad.login_check()
    token.login_check()  # the right PIN still works afterwards
    with pytest.raises(HSMError, match="No key 'nope'"):
        token.encrypt("nope", b"x")
    ghost = SoftHSMToken(Workspace("hsmtest"), "no-such-token")
    with pytest.raises(HSMError, match="There is no token 'no-such-token'"):
        ghost.objects()


def test_missing_library_is_a_clear_error(tmp_path):
    with pytest.raises(LabError, match="SoftHSM library"):
        find_library(tmp_path / "libnothing.so")


def test_rerun_session_is_safe(token):
    # Two token objects and nested sessions: no UserAlreadyLoggedIn.
    other = SoftHSMToken(Workspace("hsmtest"), "lab-hsm")
    with token.session() as first, other.session() as second:
        assert first is second
    token.close()
    with other.session():
        pass


def test_unplug_and_plug_back_keeps_keys(token):
    token.aes_key("k1")
    blob = token.encrypt("k1", b"kept")
    token.unplug()
    assert not token.exists()
    with pytest.raises(HSMError, match="There is no token"):
        token.encrypt("k1", b"x")
    token.plug_back()
    assert token.decrypt("k1", blob) == b"kept"
    # An interrupted run that left the token out: ensure() puts the same token back.
    token.unplug()
    token.ensure()
    assert token.decrypt("k1", blob) == b"kept"


def test_two_labs_have_separate_tokens(lab_home):
    a = SoftHSMToken(Workspace("lab-a").ensure(), "same-label").ensure()
    b = SoftHSMToken(Workspace("lab-b").ensure(), "same-label").ensure()
    a.aes_key("only-in-a")
    assert b.has_key("only-in-a") is False
    assert a.has_key("only-in-a") is True
    assert b.has_key("only-in-a") is False
    # The variable is set only while SoftHSM initialises: servers started later must not
    # inherit one lab's token folder.
    assert os.environ.get("SOFTHSM2_CONF") != str(b.conf_path)
