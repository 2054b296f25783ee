"""Which X the stack talks to: the simulated X API (default), or any X-compatible server named by
`X_API_BASE_URL`, with credentials from `X_CREDENTIALS_FILE` (a JSON file) or `X_CREDENTIALS_JSON`.

Two kinds of credentials go into SSM: the operator's OAuth 1.0a user context (the worker syncs the account
that `random-likes subscribers add` names with it), and the app's OAuth 2.0 client ("Connect with X": the api
exchanges codes with it, the worker refreshes and revokes tokens). The simulator derives both from its seed
and is also the authorization server; an external X takes the client from `X_OAUTH2_CLIENT_ID` and
`X_OAUTH2_CLIENT_SECRET`, and its consent page from `X_AUTHORIZE_URL` (default X's own).

The simulator runs in this process, on real time (so its `x-rate-limit-reset` and the functions' clocks
agree); `--accelerate` shortens its rate-limit window and the interval at which @demo gains likes instead.
What must survive a restart for the data to stay consistent is its seed and the moment new likes started
arriving (`arrivals_since`): both are kept in the data directory, so the same likes come back under the
same ids. So are the live OAuth 2.0 grants (by the tokens' digests; saved when the stack stops): the tokens
table keeps a connected account's tokens across a restart, and X must still accept them. Likes added or posts
deleted through `/_sim/` are not kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.xsim import ScaledClock, XSim, XSimConfig
from local.xsim.config import DEV_ARCHIVE_MEDIA_BYTES

STATE_FILE = "xsim.json"
DEMO_LIKE_EVERY_MINUTES = 30.0
CREDENTIAL_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret", "bearer_token")
DEFAULT_AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
CALLBACK_PATH = "/auth/x/callback"


class XConfigError(ValueError):
    """X cannot be set up as asked; the message says what to fix."""


@dataclass
class XService:
    base_url: str
    credentials: dict[str, str]  # what goes into the SSM SecureString; never logged
    simulator: XSim | None
    description: str
    state_path: Path | None = None
    authorize_url: str = DEFAULT_AUTHORIZE_URL  # where "Connect with X" sends the browser
    # The app's OAuth 2.0 client {"client_id", "client_secret"} (another SecureString); None: Connect cannot work.
    oauth2_client: dict[str, str] | None = None

    def secrets(self) -> list[str]:
        """Every value the log must mask."""
        values = list(self.credentials.values())
        if self.oauth2_client is not None:
            values.append(self.oauth2_client["client_secret"])
        return values

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
            self._save_grants()

    def _save_grants(self) -> None:
        """The simulator's live OAuth 2.0 grants into the state file, so connected accounts stay connected (the
        tokens table keeps the tokens, X must still know them)."""
        if self.simulator is None or self.state_path is None:
            return
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        state["oauth2"] = self.simulator.app.oauth2.grants()
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state) + "\n", encoding="utf-8")
        temporary.replace(self.state_path)


def simulated(
    *,
    host: str,
    port: int,
    seed: int,
    accelerate: float,
    media_base_url: str,
    data_dir: Path,
    clean: bool,
    callback_urls: tuple[str, ...] = (),
) -> XService:
    """The simulator on `host:port`; `callback_urls` are the redirect URIs its demo app accepts (the app's
    `/auth/x/callback`, as registered with X), none: any loopback URI."""
    state_path = data_dir / STATE_FILE
    saved = {} if clean else _saved_state(state_path, seed)
    since = _arrivals_since(saved) or datetime.now(UTC)
    config = XSimConfig(
        seed=seed,
        window_seconds=max(1, round(XSimConfig.window_seconds / accelerate)),
        like_every_minutes={"demo": DEMO_LIKE_EVERY_MINUTES / accelerate},
        arrivals_since=since,
        media_base_url=media_base_url,
        redirect_uris=callback_urls,
        archive_media_bytes=DEV_ARCHIVE_MEDIA_BYTES,
    )
    try:
        simulator = XSim(config, clock=ScaledClock(1.0), host=host, port=port).start()
    except OSError as exc:
        raise XConfigError(
            f"the simulated X API cannot listen on {host}:{port} ({exc.strerror}); try --x-port"
        ) from None
    if isinstance(saved.get("oauth2"), dict):
        simulator.app.oauth2.restore_grants(saved["oauth2"])
    data_dir.mkdir(parents=True, exist_ok=True)
    kept = {
        "seed": seed,
        "arrivals_since": since.isoformat(),
        **({"oauth2": saved["oauth2"]} if "oauth2" in saved else {}),
    }
    state_path.write_text(json.dumps(kept) + "\n", encoding="utf-8")
    client = simulator.oauth2_client
    return XService(
        base_url=simulator.base_url,
        credentials=simulator.oauth1_credentials("demo").as_dict(),
        simulator=simulator,
        description=f"simulated X API on {simulator.base_url} (seed {seed}; the credentials are @demo's, "
        f"Connect with X signs in on {simulator.base_url}/i/oauth2/authorize)",
        state_path=state_path,
        authorize_url=f"{simulator.base_url}/i/oauth2/authorize",
        oauth2_client={"client_id": client.client_id, "client_secret": client.client_secret},
    )


def _saved_state(path: Path, seed: int) -> dict[str, Any]:
    """What the last run kept for this seed (another seed is another world: nothing)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) and saved.get("seed") == seed else {}


def _arrivals_since(saved: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(saved["arrivals_since"])
    except (KeyError, TypeError, ValueError):
        return None


def external(environ: Mapping[str, str]) -> XService:
    """X_API_BASE_URL with X_CREDENTIALS_FILE or X_CREDENTIALS_JSON: the real X API or any compatible server."""
    base_url = environ["X_API_BASE_URL"].strip().rstrip("/")
    if not base_url.startswith(("https://", "http://")):
        raise XConfigError(f"X_API_BASE_URL must be an http(s) URL, got {base_url!r}")
    raw: str | None = environ.get("X_CREDENTIALS_JSON")
    source = "X_CREDENTIALS_JSON"
    if not raw and environ.get("X_CREDENTIALS_FILE"):
        source = environ["X_CREDENTIALS_FILE"]
        try:
            raw = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise XConfigError(f"cannot read X_CREDENTIALS_FILE {source}: {exc.strerror}") from None
    if not raw:
        raise XConfigError(
            "X_API_BASE_URL is set, so the stack talks to that server instead of the simulator: give it credentials "
            "with X_CREDENTIALS_FILE=path/to/credentials.json or X_CREDENTIALS_JSON='{...}' (see docs/local.md)"
        )
    try:
        data = json.loads(raw)
    except ValueError:
        raise XConfigError(f"the X credentials in {source} are not JSON") from None
    if not isinstance(data, dict):
        raise XConfigError(f"the X credentials in {source} must be a JSON object")
    credentials = {k: str(v) for k, v in data.items() if k in CREDENTIAL_KEYS and v}
    oauth1 = all(k in credentials for k in CREDENTIAL_KEYS[:4])
    if not oauth1 and "bearer_token" not in credentials:
        raise XConfigError(
            f"the X credentials in {source} need consumer_key, consumer_secret, access_token and "
            "access_token_secret (OAuth 1.0a user context), or bearer_token (an OAuth 2.0 user token)"
        )
    authorize_url = environ.get("X_AUTHORIZE_URL", "").strip() or DEFAULT_AUTHORIZE_URL
    if not authorize_url.startswith(("https://", "http://")):
        raise XConfigError(f"X_AUTHORIZE_URL must be an http(s) URL, got {authorize_url!r}")
    client = _oauth2_client(environ)
    connect = "Connect with X works" if client else "no X_OAUTH2_CLIENT_ID/X_OAUTH2_CLIENT_SECRET: Connect fails"
    return XService(
        base_url,
        credentials,
        None,
        f"X API at {base_url} (credentials from {source}; {connect})",
        authorize_url=authorize_url,
        oauth2_client=client,
    )


def _oauth2_client(environ: Mapping[str, str]) -> dict[str, str] | None:
    """The app's OAuth 2.0 client from X_OAUTH2_CLIENT_ID and X_OAUTH2_CLIENT_SECRET: both, or neither."""
    client_id = environ.get("X_OAUTH2_CLIENT_ID", "").strip()
    client_secret = environ.get("X_OAUTH2_CLIENT_SECRET", "").strip()
    if bool(client_id) != bool(client_secret):
        raise XConfigError(
            "set both X_OAUTH2_CLIENT_ID and X_OAUTH2_CLIENT_SECRET (the app's OAuth 2.0 client), or neither"
        )
    return {"client_id": client_id, "client_secret": client_secret} if client_id else None


def choose(environ: Mapping[str, str] | None = None) -> bool:
    """True when the environment names an X server to use instead of the simulator."""
    env = os.environ if environ is None else environ
    return bool(env.get("X_API_BASE_URL", "").strip())
