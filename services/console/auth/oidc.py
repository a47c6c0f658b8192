"""OpenID Connect sign-in (production): the seam left for it, not yet built (issue 15).

What goes here: Authlib's Starlette client, authorization code with PKCE, against the
identity provider named in settings (e.g. LABOURX_CONSOLE_OIDC_ISSUER, _CLIENT_ID,
_CLIENT_SECRET, and the claim mapping to role, office and province as a setting).

- `GET /sign-in/oidc?next=...`: redirect to the provider (state, nonce and the PKCE verifier
  kept in a short-lived signed cookie or a pre-session row).
- `GET /sign-in/oidc/callback`: exchange the code, verify the ID token, map its claims to an
  `Officer` (the access token the services accept is its `token`), then
  `auth.signin.begin_session(page, officer, method="oidc", next=...)` exactly as the
  development picker does. Refuse (a page, not a trace) an identity without a labourx role.
- Sign-out: `auth.api.sign_out` ends the console's session; add the provider's end-session
  redirect there when `enabled()`.

`enabled()` tells the sign-in page whether to offer it.
"""

from __future__ import annotations

from services.console.web.api import console_router
from shared.settings import Settings


def enabled(settings: Settings) -> bool:
    """Whether the sign-in page offers OpenID Connect (not until it is built)."""
    return False


router = console_router()
