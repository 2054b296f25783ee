"""The OAuth 2.0 consent page at `/i/oauth2/authorize`: pick a demo account, approve (or cancel), and the
browser is sent back to the app's redirect URI with `code` and `state` (or `error=access_denied`).

Everything shown is escaped: account names here are hostile on purpose (one of them is an `<img onerror>`).
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl

from local.xsim.data import World
from local.xsim.exchange import Request, Response
from local.xsim.oauth2 import AuthorizeRequest, OAuth2Error, OAuth2Server

HTML = "text/html; charset=utf-8"
# The page needs no script and no remote resource; say so, so a hostile name could not run even if unescaped.
PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}
STYLE = (
    "body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#0f1419}"
    "label{display:block;padding:.4rem;border:1px solid #cfd9de;border-radius:.5rem;margin:.3rem 0}"
    "button{padding:.5rem 1.2rem;border-radius:2rem;border:0;margin-right:.5rem}"
    ".go{background:#0f1419;color:#fff}"
)


def show(request: Request, oauth2: OAuth2Server, world: World) -> Response:
    try:
        consent = oauth2.check_authorize(dict(request.query))
    except OAuth2Error as exc:
        return _page(400, "Something went wrong", f"<p>{escape(exc.description)}</p>")
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in consent.as_params().items()
    )
    choices = "".join(
        f'<label><input type="radio" name="username" value="{escape(a.username)}"{" checked" if i == 0 else ""}> '
        f"{escape(a.name)} <small>@{escape(a.username)}</small></label>"
        for i, a in enumerate(world.accounts.values())
    )
    scopes = "".join(f"<li>{escape(scope)}</li>" for scope in consent.scopes)
    body = (
        "<p>The app <b>random-likes (simulated)</b> wants to access your account.</p>"
        f"<p>It asks for:</p><ul>{scopes}</ul>"
        f'<form method="post" action="/i/oauth2/authorize">{hidden}<fieldset><legend>Sign in as</legend>'
        f"{choices}</fieldset><p>"
        '<button class="go" type="submit" name="decision" value="approve">Authorize app</button>'
        '<button type="submit" name="decision" value="deny">Cancel</button></p></form>'
    )
    return _page(200, "Authorize app", body)


def decide(request: Request, oauth2: OAuth2Server, world: World) -> Response:
    form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        consent: AuthorizeRequest = oauth2.check_authorize(form)
    except OAuth2Error as exc:
        return _page(400, "Something went wrong", f"<p>{escape(exc.description)}</p>")
    if form.get("decision") != "approve":
        return _redirect(oauth2.deny(consent))
    account = world.account_by_username(form.get("username", ""))
    if account is None:
        return _page(400, "Something went wrong", "<p>Pick one of the demo accounts.</p>")
    return _redirect(oauth2.approve(consent, account.id))


def _redirect(location: str) -> Response:
    return Response(302, b"", HTML, {"location": location, "cache-control": "no-store"})


def _page(status: int, title: str, body: str) -> Response:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(status, html.encode("utf-8"), HTML, dict(PAGE_HEADERS))
