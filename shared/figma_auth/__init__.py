"""figma_auth: "Sign in with Figma" for AWS Lambda.

The Lambda layer every function shares. Handlers in ``functions/`` are thin entry points that
name the use cases ``runtime`` (the composition root) builds for them:

- sign-in in cookie or token mode (``usecases.authorize``, ``usecases.signin``), sessions,
  refresh and logout (``usecases.sessions``);
- device sign-in for plugins and CLIs, RFC 8628 (``usecases.device``);
- the Figma proxy for the browser and the app's backend (``usecases.proxy``), backend access
  to a user's connection behind AWS IAM (``usecases.connections``);
- short-lived ES256 JWTs for the app's own API (``usecases.jwts``);
- the scheduled refresh (``usecases.scheduled_refresh``), through the one refresh engine
  (``engine``).

Beneath them: the Figma client (``figma``) and pure protocol helpers (``oauth``, ``tokens``,
``urls``, ``times``), the DynamoDB adapter (``store``, ``items``, ``records``), KMS
(``vault``, ``signing``), and the HTTP glue (``web``).
"""

__version__ = "0.1.0"

from figma_auth import coldstart, lean_imports

coldstart.begin()  # no cyclic collection until the first answer (figma_auth.coldstart)
lean_imports.install()
