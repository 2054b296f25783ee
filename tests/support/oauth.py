"""Connected accounts for tests: the real authorization code flow against the simulator, and the stack's tokens.

`connect(sim, "demo", now=...)` does what a person and the api do together, over loopback: the consent form
POST (PKCE S256), the code from the redirect, then `XOAuth2.exchange_code`. The tokens are real simulator
tokens (single-use refresh tokens, 2-hour access tokens on the simulator's clock); nothing is made up.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

from local.provision import REGION, client, stack_refs
from local.xsim import XSim
from shared.models import AuthKind, Subscriber
from shared.store import Stores
from shared.store.tokens import TokenStore
from shared.tokens import KmsTokenCipher, TokenSet
from shared.x_oauth2 import SCOPES, OAuth2ClientCredentials, XOAuth2

REDIRECT_URI = "http://127.0.0.1:3000/auth/x/callback"


def oauth2_for(sim: XSim, base_url: str | None = None) -> XOAuth2:
    """The app's OAuth 2.0 client as the simulator knows it, talking to `base_url` (default: the simulator)."""
    creds = sim.oauth2_client
    return XOAuth2(base_url or sim.base_url, OAuth2ClientCredentials(creds.client_id, creds.client_secret))


def connect(sim: XSim, username: str, *, now: datetime) -> tuple[str, TokenSet]:
    """(X user id, tokens) of `username` after consenting on the simulator's page and exchanging the code."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    form = {
        "response_type": "code",
        "client_id": sim.oauth2_client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "username": username,
        "decision": "approve",
    }
    connection = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/i/oauth2/authorize",
            body=urlencode(form),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        answer = connection.getresponse()
        answer.read()
        location = answer.getheader("location") or ""
    finally:
        connection.close()
    returned = parse_qs(urlsplit(location).query)
    assert answer.status == 302, "the consent page did not send the browser back"
    assert returned.get("state") == [state], "the consent page did not return the state"
    tokens = oauth2_for(sim).exchange_code(returned["code"][0], verifier, REDIRECT_URI, now)
    user = oauth2_for(sim).me(tokens.access_token)
    assert user.username.lower() == username.lower()
    return user.id, tokens


def token_env(aws_endpoint: str, stack_name: str, sim: XSim, parameter: str) -> dict[str, str]:
    """The worker's environment for connected accounts on this stack: its tokens table and key, and the
    OAuth 2.0 client (the simulator's) in an SSM SecureString."""
    refs = stack_refs(aws_endpoint, stack_name)
    client("ssm", aws_endpoint).put_parameter(
        Name=parameter,
        Value=json.dumps({"client_id": sim.oauth2_client.client_id, "client_secret": sim.oauth2_client.client_secret}),
        Type="SecureString",
        Overwrite=True,
    )
    return {
        "TOKENS_TABLE_NAME": refs["TokensTable"][1],
        "TOKENS_KEY_ID": refs["TokensKey"][1],
        "X_OAUTH2_CLIENT_PARAMETER": parameter,
    }


def token_store(aws_endpoint: str, env: dict[str, str]) -> TokenStore:
    cipher = KmsTokenCipher(env["TOKENS_KEY_ID"], REGION, aws_endpoint)
    return TokenStore.open(env["TOKENS_TABLE_NAME"], REGION, aws_endpoint, cipher)


def connected_subscription(store: Stores, key: str, x_user_id: str, now: datetime) -> Subscriber:
    """A subscription read with its owner's own OAuth 2.0 token, due now."""
    sub, created = store.subscribers.create_subscriber(key, key, now, now, x_user_id=x_user_id, auth=AuthKind.OAUTH2)
    assert created
    assert sub.auth is AuthKind.OAUTH2
    return sub
