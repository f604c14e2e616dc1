"""One module per use case. Each takes its collaborators by keyword, declares the store, vault
and Figma operations it needs as a ``typing.Protocol``, and speaks the domain (users,
connections, sessions, grants): no Lambda events, cookies or headers (``web`` adapts).
``figma_auth.container`` builds them once per container and each function names the ones it
serves. tests/unit/test_structure.py keeps this list equal to the package's modules.

- ``authenticate``      who a request is: the session a token names and its user's connection
- ``authorize``         start a sign-in (cookie or token mode); the scopes a sign-in may ask for
- ``signin``            the callback: exchange the code, create the session; redeem a ticket
- ``sessions``          session view, refresh, list, logout, end a user
- ``device``            device sign-in for plugins and CLIs (RFC 8628), the app's side
- ``device_verify``     device sign-in, the person's side: the verify page's look-up and confirm
- ``agents``            agents (MCP clients) ask a person: /oauth/authorize's checks, the code
- ``agent_tokens``      agents' token grants: authorization_code, rotating refresh_token, ES256 JWTs
- ``proxy``             call Figma's REST API as the session's user or (backend) as any user
- ``file_cache``        read each file version from Figma once (the proxy's Tier-1 reads)
- ``connections``       backend access: a user's connection, disconnect
- ``connection_list``   backend access: every connection, a page at a time (signed cursors)
- ``jwts``              short-lived ES256 JWTs for the app's own API, JWKS
- ``discovery``         RFC 8414 metadata (and OpenID discovery)
- ``rate_limits``       Figma's rate limits remembered: check before a call, record a 429, clear
- ``webhooks``          a connection's webhooks at Figma: create, list, delete, drop all
- ``webhook_receiver``  Figma's deliveries: verified, matched, deduplicated, published
- ``webhook_reconcile`` Figma's webhooks and the table kept in agreement, on a schedule
- ``realtime``          the WebSocket API's one-time tickets and sockets; a session's end closes them
- ``live``              watching a file: access proven with /meta, one Figma webhook per file shared
- ``push``              the stack's events to the sockets watching the file, or of the user
- ``scheduled_refresh`` renew the connections that are due, through the refresh engine
- ``views``             the session and connection views every use case answers with
"""
