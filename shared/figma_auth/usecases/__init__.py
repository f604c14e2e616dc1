"""One module per use case. Each takes its collaborators by keyword, declares the store, vault
and Figma operations it needs as a ``typing.Protocol``, and speaks the domain (users,
connections, sessions, grants): no Lambda events, cookies or headers (``web`` adapts).
``runtime`` builds them once per container and each function names the ones it serves.

- ``authorize``       start a sign-in (cookie or token mode); the scopes a sign-in may ask for
- ``signin``          the callback: exchange the code, create the session; redeem a ticket
- ``sessions``        who a request is; session view, refresh, list, logout, end a user
- ``device``          device sign-in for plugins and CLIs (RFC 8628)
- ``proxy``           call Figma's REST API as the session's user or (backend) as any user
- ``connections``     backend access: a user's connection, disconnect
- ``jwts``            short-lived ES256 JWTs for the app's own API, JWKS, discovery
- ``scheduled_refresh`` renew the connections that are due, through the refresh engine
- ``views``           the session and connection views every use case answers with
"""
