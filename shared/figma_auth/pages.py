"""The device sign-in's pages (GET /auth/device/verify) and the agents' consent page (GET
/oauth/authorize): plain HTML, no script, no framework,
the local home page's look. Every value is escaped; see ``csp`` for what the page may do."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

# The name is the app's own words (RFC 8628 §5.4: anyone can start a sign-in under any name).
UNVERIFIED = '<span class="hint" id="client-note">(the name the app gave itself, not verified by figma-auth)</span>'


def csp(figma_origin: str) -> str:
    """Nothing but the inline style, and forms back to this origin, which redirect to Figma's
    consent page (browsers apply form-action to a form's redirects too)."""
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' {figma_origin}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f6f8; margin: 0; color: #222; }
main { max-width: 520px; margin: 40px auto; background: #fff; padding: 24px 32px; border-radius: 12px;
       box-shadow: 0 2px 10px #0001; }
h1 { font-size: 22px; } h1 small { font-size: 14px; color: #888; font-weight: normal; }
.code { font: 600 34px/1.2 ui-monospace, monospace; letter-spacing: 4px; text-align: center; background: #f1f5ff;
        padding: 14px; border-radius: 10px; margin: 18px 0; }
.button, button { display: inline-block; background: #0d99ff; color: #fff; padding: 10px 16px; border-radius: 8px;
                  text-decoration: none; border: 0; font-size: 15px; cursor: pointer; }
input { font: 600 22px ui-monospace, monospace; letter-spacing: 3px; text-transform: uppercase; padding: 8px 10px;
        width: 12ch; border: 1px solid #ccc; border-radius: 8px; }
.error { background: #fee; color: #a00; padding: 10px 14px; border-radius: 8px; }
.ok { background: #e9f9ee; color: #135d2b; padding: 10px 14px; border-radius: 8px; }
.hint { color: #777; font-size: 13px; } ul { padding-left: 20px; }
"""


def _page(title: str, body: str, subtitle: str = "device sign-in") -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="icon" href="data:,"><style>{_STYLE}</style></head>'
        f"<body><main><h1>figma-auth <small>{escape(subtitle)}</small></h1>{body}</main></body></html>"
    )


def enter_code(action: str, csrf: str, problem: str | None = None, *, code: str | None = None) -> str:
    """Ask for the code the plugin, extension or CLI shows (``code``: the app's link pre-filled
    it; the person still presses Continue, which posts this page's form)."""
    error = f'<p class="error" role="alert">{escape(problem)}</p>' if problem else ""
    if code:
        field = (
            f'<div class="code" id="user-code">{escape(code)}</div>'
            f'<input type="hidden" name="user_code" value="{escape(code)}">'
            '<input type="hidden" name="via" value="link">'
        )
        ask = "<p>Your app opened this page with this code:</p>"
    else:
        field = (
            '<p><input name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false" '
            'maxlength="12" placeholder="XXXX-XXXX" required aria-label="code"></p>'
            '<input type="hidden" name="via" value="typed">'
        )
        ask = "<p>Enter the code shown in Figma (or your editor, or terminal):</p>"
    return _page(
        "Enter your code",
        f"{error}{ask}"
        f'<form method="post" action="{escape(action)}">{field}'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<button id="continue" type="submit">Continue</button></form>',
    )


def confirm(action: str, user_code: str, scopes: list[str], confirm_value: str, about: SignInFacts) -> str:
    """Show the code, who asks, when and from where, and the scopes; continue to Figma only when
    the person says they match."""
    items = "".join(f"<li><code>{escape(s)}</code></li>" for s in scopes)
    who = (
        f'<strong id="client">{escape(about.client)}</strong> {UNVERIFIED}'
        if about.client
        else '<strong id="client">an app on a device</strong>'
    )
    when = "just now" if about.minutes_ago < 1 else f"{about.minutes_ago} minute{'s' * (about.minutes_ago != 1)} ago"
    where = "from this browser's network" if about.same_network else "from another network than this browser's"
    return _page(
        "Confirm the code",
        f"<p>Signing in: {who}</p>"
        f'<p id="started">Started {when}, <span id="network">{where}</span>.</p>'
        "<p>Check that this is the code shown in Figma (or your editor, or terminal):</p>"
        f'<div class="code" id="user-code">{escape(user_code)}</div>'
        f"<p>Continuing signs that app in with your Figma account and lets it:</p><ul>{items}</ul>"
        '<p class="error" id="warning">Only continue if you started this sign-in yourself, just now, and the code '
        "matches. If someone sent you this link or the code, close this page: they would get your Figma account.</p>"
        f'<form method="get" action="{escape(action)}">'
        f'<input type="hidden" name="user_code" value="{escape(user_code)}">'
        f'<input type="hidden" name="confirm" value="{escape(confirm_value)}">'
        '<button id="confirm" type="submit">The codes match — continue to Figma</button></form>',
    )


@dataclass(frozen=True)
class SignInFacts:
    """What the confirm page tells the person about the sign-in (RFC 8628 §5.4)."""

    client: str | None
    minutes_ago: int
    same_network: bool


def done(client: str | None = None) -> str:
    """The end of a device sign-in: back to the app that asked, by the name it gave itself
    when the page can tell (else Figma, where most device sign-ins start)."""
    back = (
        f'<strong id="client">{escape(client)}</strong> {UNVERIFIED}'
        if client
        else "Figma (or your editor, or terminal)"
    )
    return _page(
        "Signed in",
        f'<p class="ok" id="done" role="status">You\'re signed in — return to {back}.</p>'
        '<p class="hint">You can close this page.</p>',
    )


def failed(code: str, message: str) -> str:
    return _page(
        "Not signed in",
        f'<p class="error" id="failed" role="alert" data-error="{escape(code)}">{escape(message)}</p>'
        '<p class="hint">Start again from Figma (or your editor, or terminal).</p>',
    )


# An agent's name and logo come from its Client ID Metadata Document: anyone can publish one.
OWN_WORDS = (
    '<span class="hint" id="client-note">(the name and logo the app gives itself, not verified by figma-auth)</span>'
)


@dataclass(frozen=True)
class AgentConsent:
    """What the consent page shows: the client in its own words, where it returns, for what."""

    client_name: str
    client_id: str
    logo_uri: str | None
    return_host: str
    resource: str
    scopes: tuple[str, ...]
    user: str  # who is signed in here (the Figma handle)


def consent(action: str, about: AgentConsent, fields: dict[str, str]) -> str:
    """Allow or deny an agent (an MCP client); the form posts back to our own origin."""
    logo = (
        f'<img id="client-logo" src="{escape(about.logo_uri)}" alt="" width="48" height="48">' if about.logo_uri else ""
    )
    items = "".join(f"<li><code>{escape(s)}</code></li>" for s in about.scopes)
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())
    return _page(
        "Allow access?",
        f'<p>{logo}<strong id="client">{escape(about.client_name)}</strong> {OWN_WORDS}</p>'
        f'<p class="hint">Identified by <code id="client-id">{escape(about.client_id)}</code></p>'
        f'<p>wants to use <strong id="resource">{escape(about.resource)}</strong> as '
        f'<strong id="user">{escape(about.user)}</strong>, with your Figma account\'s:</p><ul id="scopes">{items}</ul>'
        f'<p>After you answer, you go back to <strong id="return-host">{escape(about.return_host)}</strong>.</p>'
        '<p class="hint">Only allow apps you started connecting yourself, just now. You can end this access any '
        "time from your sessions.</p>"
        f'<form method="post" action="{escape(action)}">{hidden}'
        '<button id="allow" type="submit" name="decision" value="allow">Allow</button> '
        '<button id="deny" type="submit" name="decision" value="deny">Deny</button></form>',
        subtitle="connect an app",
    )


def agent_failed(code: str, message: str) -> str:
    return _page(
        "Cannot connect this app",
        f'<p class="error" id="failed" role="alert" data-error="{escape(code)}">{escape(message)}</p>'
        '<p class="hint">Go back to the app and start connecting again.</p>',
        subtitle="connect an app",
    )
