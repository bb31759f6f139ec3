"""Auth room against a real TLS lab server, a real lab identity provider and
client certificates from the lab CA."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from labkit import VaultLab, auth
from labkit.auth.jwt import JwtIssuer, b64url_decode, decode_unverified
from labkit.errors import LabError
from labkit.redact import Secret

pytestmark = pytest.mark.integration

POLICY = 'path "secret/data/app/*" { capabilities = ["read"] }\n'


@pytest.fixture(scope="module")
def lab():
    with VaultLab("auth-tests", tls=True, lifetime="ephemeral", export_env=False) as lab:
        auth.write_policy(lab, "app-read", POLICY)
        lab.client.secrets.kv.v2.create_or_update_secret("app/config", {"colour": "blue"})
        yield lab


@pytest.fixture(scope="module")
def idp(lab):
    provider = auth.IdentityProvider(lab).start()
    auth.setup_jwt_auth(lab, provider)
    auth.setup_jwt_role(lab, "vendor", ["vault-lab"], ["app-read"], bound_claims={"department": "eng"},
                        claim_mappings={"department": "department", "email": "email"})
    yield provider
    provider.stop()


PASSWORD = Secret("correct-horse-battery", "password")


@pytest.fixture(scope="module")
def alice(lab):
    auth.setup_userpass(lab, "alice", PASSWORD, ["app-read"], token_ttl="1h", token_max_ttl="2h")
    return auth.login_userpass(lab, "alice", PASSWORD)


def test_jwt_is_rs256_signed_and_verifies_with_the_published_key(tmp_path):
    issuer = JwtIssuer(tmp_path, "http://127.0.0.1:1")
    token = issuer.issue("bob", "aud-1", ttl=60, claims={"team": "x"})
    header, claims = decode_unverified(token)
    assert header["alg"] == "RS256" and claims["sub"] == "bob" and claims["aud"] == "aud-1"
    assert claims["exp"] - claims["iat"] == 60 and claims["team"] == "x"
    signing_input, signature = token.reveal().rsplit(".", 1)
    public = serialization.load_pem_public_key(issuer.public_pem().encode())
    public.verify(b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    jwk = issuer.jwks()["keys"][0]
    assert int.from_bytes(b64url_decode(jwk["n"]), "big") == public.public_numbers().n
    assert "Secret(jwt" in repr(token)
    assert (tmp_path / "signing-key.pem").stat().st_mode & 0o077 == 0
    with pytest.raises(LabError, match="audience"):
        issuer.issue("bob", "")


def test_userpass_login_policy_allows_and_denies(lab, alice):
    assert "app-read" in alice.policies and alice.ttl == 3600 and alice.renewable
    assert PASSWORD.reveal() not in repr(alice) and alice.token.reveal() not in repr(alice)
    assert alice.token.reveal() not in alice._repr_html_()
    allowed = auth.try_request(lab, alice.token, "GET", "secret/data/app/config")
    assert allowed.allowed and "read" in allowed.capabilities
    denied = auth.try_request(lab, alice.token, "GET", "secret/data/other")
    assert denied.status == 403 and denied.capabilities == ["deny"]
    assert "permission denied" in denied.errors and "403" in denied.explanation


def test_wrong_password_says_so(lab, alice):
    with pytest.raises(LabError) as err:
        auth.login_userpass(lab, "alice", "not-the-password")
    assert "invalid username or password" in str(err.value) and err.value.fix


def test_policy_hint_for_kv2_path_without_data(lab):
    hints = auth.write_policy(lab, "wrong-path", 'path "secret/app/*" { capabilities = ["read"] }')
    assert hints and "secret/data/app/*" in hints[0]
    assert auth.write_policy(lab, "right-path", POLICY) == []
    with pytest.raises(LabError, match="policy"):
        auth.write_policy(lab, "broken", 'path "x" { capabilities = ')


def test_token_lookup_renew_revoke(lab):
    login = auth.login_userpass(lab, "alice", PASSWORD)
    info = auth.token_lookup(lab, login.token)
    assert info["display_name"] == "userpass-alice" and info["meta"] == {"username": "alice"}
    assert login.token.reveal() not in repr(info)
    assert 0 < auth.token_renew(lab, login.token, "30m") <= 1800
    auth.token_revoke(lab, login.token)
    with pytest.raises(LabError, match="revoked or expired"):
        auth.token_lookup(lab, login.token)


def test_approle_wrapped_secret_id_is_single_use(lab):
    auth.setup_approle(lab, "ci", ["app-read"], secret_id_ttl="1s")
    role_id = auth.approle_role_id(lab, "ci")
    wrapped = auth.approle_secret_id(lab, "ci", wrap_ttl="60s")
    assert wrapped.ttl == 60 and wrapped.creation_path == "auth/approle/role/ci/secret-id"
    assert wrapped.token.reveal() not in repr(wrapped)
    secret_id = auth.unwrap(lab, wrapped)["secret_id"]
    assert isinstance(secret_id, Secret)
    with pytest.raises(LabError, match="already used"):
        auth.unwrap(lab, wrapped)
    login = auth.login_approle(lab, role_id, secret_id)
    assert login.metadata == {"role_name": "ci"} and "app-read" in login.policies
    stale = auth.approle_secret_id(lab, "ci")
    time.sleep(1.5)
    with pytest.raises(LabError) as err:
        auth.login_approle(lab, role_id, stale)
    assert "expired" in err.value.fix


def test_jwt_login_through_lab_identity_provider(lab, idp):
    assert idp.discovery()["jwks_uri"] == idp.jwks_url
    assert idp.jwks()["keys"][0]["kid"] == "lab-key-1"
    token = idp.issue("bob", "vault-lab", claims={"department": "eng", "email": "bob@example.com"})
    login = auth.login_jwt(lab, "vendor", token)
    assert login.metadata["email"] == "bob@example.com" and login.metadata["department"] == "eng"
    assert (lab.workspace.logs_dir / "idp.log").read_text().count("jwks.json") >= 1


@pytest.mark.parametrize("kwargs, needle", [
    ({"audience": "someone-else", "claims": {"department": "eng"}}, "audience"),
    ({"audience": "vault-lab", "claims": {"department": "sales"}}, "bound claim"),
    ({"audience": "vault-lab", "claims": {"department": "eng"}, "ttl": -120}, "expired"),
])
def test_jwt_bad_tokens_get_clear_errors(lab, idp, kwargs, needle):
    token = idp.issue("bob", **kwargs)
    with pytest.raises(LabError) as err:
        auth.login_jwt(lab, "vendor", token)
    assert needle in err.value.fix.lower()


def test_jwt_signed_by_another_key_is_refused(lab, idp, tmp_path):
    forged = JwtIssuer(tmp_path, idp.issuer).issue("bob", "vault-lab", claims={"department": "eng"})
    with pytest.raises(LabError):
        auth.login_jwt(lab, "vendor", forged)


def test_cert_login_with_lab_ca_client_cert(lab):
    issued = lab.ca.issue("build-agent-7", client=True)
    auth.setup_cert_auth(lab, "agents", lab.ca.cert_path, ["app-read"], allowed_common_names=["build-agent-*"])
    login = auth.login_cert(lab, issued, "agents")
    assert "app-read" in login.policies and login.metadata["common_name"] == "build-agent-7"
    other = lab.ca.issue("laptop-3", client=True)
    with pytest.raises(LabError):
        auth.login_cert(lab, other, "agents")


def test_cert_auth_needs_tls(dev_lab):
    with pytest.raises(LabError, match="tls=True"):
        auth.setup_cert_auth(dev_lab, "agents", "/nonexistent", ["default"])


def test_identity_links_two_methods_to_one_entity(lab, idp, alice):
    entity_id = alice.entity_id
    auth.add_alias(lab, entity_id, "alice", "jwt")
    token = idp.issue("alice", "vault-lab", claims={"department": "eng"})
    via_jwt = auth.login_jwt(lab, "vendor", token)
    assert via_jwt.entity_id == entity_id
    auth.write_policy(lab, "team-extra", 'path "secret/data/team/*" { capabilities = ["read"] }')
    auth.create_group(lab, "team", ["team-extra"], [entity_id])
    view = auth.entity_view(lab, entity_id)
    assert "team" in view["groups"] and len(view["aliases"]) == 2
    fresh = auth.login_userpass(lab, "alice", PASSWORD)
    lab.client.secrets.kv.v2.create_or_update_secret("team/doc", {"x": 1})
    assert auth.try_request(lab, fresh.token, "GET", "secret/data/team/doc").allowed


def test_reviewer_checklist(lab, idp, tmp_path):
    token = idp.issue("carol", "vault-lab", claims={"department": "eng", "email": "c@example.com"})
    login = auth.login_jwt(lab, "vendor", token)
    good = auth.review_auth_method(lab, "jwt", login, secrets=[token])
    assert good.passed, str(good)
    leaky = tmp_path / "plugin.log"
    leaky.write_text(f"debug: got jwt {token.reveal()}\n")
    bad = auth.review_auth_method(lab, "jwt", login, secrets=[token], logs=[leaky], login_path="role/vendor")
    failed = {item.what for item in bad.failures()}
    assert any("answers without a token" in w for w in failed)
    assert any("no credential" in w for w in failed)
    assert token.reveal() not in str(bad)


def test_identity_provider_is_reattached_with_its_key(lab, idp):
    again = auth.IdentityProvider(lab).start()
    assert again.process.pid == idp.process.pid and again.issuer == idp.issuer
    login = auth.login_jwt(lab, "vendor", again.issue("dave", "vault-lab", claims={"department": "eng"}))
    assert login.entity_id
