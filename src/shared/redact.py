"""Secrets out of a text before it is stored or logged: the `last_error` that the api, the page and the CLI show.

X's 400s echo the values they reject ("The `pagination_token` query parameter value [...] is not valid"), and
an exception's text can carry a header or a URL. Whatever is a credential, a signature or a cursor becomes
`[redacted]`; the parameter's name stays, since it is what an operator needs to act on.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

# Credentials and what is derived from them (OAuth 1.0a's oauth_* parameters, OAuth 2.0's tokens, codes and
# secrets, session ids), and X's pagination cursors: opaque, useless to a reader, and a way into someone's
# private likes listing for as long as they live.
_NAMES = (
    r"oauth_[a-z_]+|access_token(?:_secret)?|refresh_token|bearer_token|id_token|client_secret|consumer_secret"
    r"|token_secret|code_verifier|authorization_code|session(?:_id)?|rl_session|password|secret"
    r"|pagination_token|next_token|previous_token|token"
)
# name=value, name: value, name="value", "name": "value" (a query string, a header, JSON).
_ASSIGNED = re.compile(rf"""(\b(?:{_NAMES})\b"?\s*[:=]\s*"?)[^\s"',&;\[\])]+""", re.IGNORECASE)
# X's own wording: "The `name` query parameter value [value] ...".
_X_VALUE = re.compile(rf"(`(?:{_NAMES})`[^\[\]`]*\[)[^\]]*(\])", re.IGNORECASE)
# An Authorization header's bearer token.
_BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9\-._~+/%]+=*", re.IGNORECASE)
# Anything long and opaque enough to be a token whatever it is called: 32+ characters mixing letters and digits
# (a post or user id is at most 19 digits; a path or a URL is broken up by its slashes and dots).
_OPAQUE = re.compile(r"\b(?=[A-Za-z0-9_\-~+%]*[0-9])(?=[A-Za-z0-9_\-~+%]*[A-Za-z])[A-Za-z0-9_\-~+%]{32,}=*")


def redact(text: str) -> str:
    """`text` with every secret it shows replaced by `[redacted]`."""
    text = _X_VALUE.sub(r"\1redacted\2", text)  # inside X's own brackets: "value [redacted]"
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    text = _ASSIGNED.sub(rf"\1{REDACTED}", text)
    return _OPAQUE.sub(REDACTED, text)
