"""Which X the stack talks to: the simulated X API (default), or any X-compatible server named by
`X_API_BASE_URL`, with credentials from `X_CREDENTIALS_FILE` (a JSON file) or `X_CREDENTIALS_JSON`.

The simulator runs in this process, on real time (so its `x-rate-limit-reset` and the functions' clocks
agree); `--accelerate` shortens its rate-limit window and the interval at which @demo gains likes instead.
What must survive a restart for the data to stay consistent is its seed and the moment new likes started
arriving (`arrivals_since`): both are kept in the data directory, so the same likes come back under the
same ids. Likes added or posts deleted through `/_sim/` are not kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from local.xsim import ScaledClock, XSim, XSimConfig

STATE_FILE = "xsim.json"
DEMO_LIKE_EVERY_MINUTES = 30.0
CREDENTIAL_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret", "bearer_token")


class XConfigError(ValueError):
    """X cannot be set up as asked; the message says what to fix."""


@dataclass
class XService:
    base_url: str
    credentials: dict[str, str]  # what goes into the SSM SecureString; never logged
    simulator: XSim | None
    description: str
    state_path: Path | None = None

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()


def simulated(
    *,
    host: str,
    port: int,
    seed: int,
    accelerate: float,
    media_base_url: str,
    data_dir: Path,
    clean: bool,
) -> XService:
    state_path = data_dir / STATE_FILE
    since = None if clean else _saved_arrivals_since(state_path, seed)
    since = since or datetime.now(UTC)
    config = XSimConfig(
        seed=seed,
        window_seconds=max(1, round(XSimConfig.window_seconds / accelerate)),
        like_every_minutes={"demo": DEMO_LIKE_EVERY_MINUTES / accelerate},
        arrivals_since=since,
        media_base_url=media_base_url,
    )
    try:
        simulator = XSim(config, clock=ScaledClock(1.0), host=host, port=port).start()
    except OSError as exc:
        raise XConfigError(
            f"the simulated X API cannot listen on {host}:{port} ({exc.strerror}); try --x-port"
        ) from None
    data_dir.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps({"seed": seed, "arrivals_since": since.isoformat()}) + "\n", encoding="utf-8")
    return XService(
        base_url=simulator.base_url,
        credentials=simulator.oauth1_credentials("demo").as_dict(),
        simulator=simulator,
        description=f"simulated X API on {simulator.base_url} (seed {seed}; the credentials are @demo's)",
        state_path=state_path,
    )


def _saved_arrivals_since(path: Path, seed: int) -> datetime | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("seed") != seed:
            return None  # another world: its likes arrive from now on
        return datetime.fromisoformat(saved["arrivals_since"])
    except (OSError, ValueError, KeyError, TypeError):
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
    return XService(base_url, credentials, None, f"X API at {base_url} (credentials from {source})")


def choose(environ: Mapping[str, str] | None = None) -> bool:
    """True when the environment names an X server to use instead of the simulator."""
    env = os.environ if environ is None else environ
    return bool(env.get("X_API_BASE_URL", "").strip())
