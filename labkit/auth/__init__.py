"""Auth methods room (notebook 01): JWT issuing and the lab identity provider,
userpass, AppRole, TLS certificate and JWT logins, identity, the reviewer checklist."""

from .diagram import AuthFlow
from .identity import add_alias, aliases, create_entity, create_group, entity, entity_view
from .idp import IdentityProvider
from .jwt import JwtIssuer, decode_unverified
from .methods import (
    Attempt,
    LoginResult,
    Wrapped,
    approle_role_id,
    approle_secret_id,
    enable_auth,
    login_approle,
    login_cert,
    login_jwt,
    login_userpass,
    mount_accessor,
    policy_hints,
    setup_approle,
    setup_cert_auth,
    setup_jwt_auth,
    setup_jwt_role,
    setup_userpass,
    token_lookup,
    token_renew,
    token_revoke,
    try_request,
    unwrap,
    write_policy,
)
from .review import login_path_unauthenticated, review_auth_method

__all__ = [name for name in dir() if not name.startswith("_")]
