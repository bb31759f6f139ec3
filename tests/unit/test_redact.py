from labkit import redact
from labkit.redact import Secret


def test_registered_value_is_masked_everywhere_in_text():
    redact.register("correct-horse-battery-staple", "pin")
    out = redact.redact("pin=correct-horse-battery-staple; again correct-horse-battery-staple")
    assert "correct-horse" not in out
    assert out.count("<redacted:pin>") == 2


def test_token_shapes_are_masked_without_registration():
    text = "tokens s.AbCdEfGhIjKlMnOpQrStUvWx and hvs.CAESIJabcdefghijklmnopqrstuvwxyz01234"
    out = redact.redact(text)
    assert "s.AbCd" not in out and "hvs.CAES" not in out
    assert redact.find_secrets(text) == ["token"]


def test_private_key_blocks_are_masked():
    pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----"
    assert "MIGHAgEA" not in redact.redact(f"key:\n{pem}\n")


def test_short_values_are_not_registered_so_words_survive():
    redact.register("abc", "pin")
    assert redact.redact("abcdef") == "abcdef"


def test_secret_repr_never_shows_value_but_reveal_does():
    secret = Secret("super-secret-value-42", "root-token")
    assert "super-secret" not in repr(secret) and "super-secret" not in str(secret)
    assert "super-secret" not in f"{secret}"
    assert secret.reveal() == "super-secret-value-42"
    assert "<redacted:root-token>" == redact.redact("super-secret-value-42")


def test_longer_secret_wins_over_a_secret_it_contains():
    redact.register("inner-secret", "a")
    redact.register("outer-inner-secret-x", "b")
    assert redact.redact("outer-inner-secret-x") == "<redacted:b>"
