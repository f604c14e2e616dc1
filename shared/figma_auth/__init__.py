"""figma_auth: "Sign in with Figma" for AWS Lambda.

The Lambda layer every function shares. Importing it does nothing but define names: a handler
switches the cold start's measures on by importing ``figma_auth.boot`` first, makes its
``lambda_handler`` with ``figma_auth.entry``, and asks the container (``runtime.container()``,
``figma_auth.container``) for the use cases its routes serve (``figma_auth.usecases``).

Beneath them: the Figma client (``figma``) and pure protocol helpers (``oauth``, ``tokens``,
``urls``, ``times``), the DynamoDB adapter (``store``), KMS (``vault``, ``signing``), the
publisher, and the HTTP glue (``web``, ``proxy_http``, ``device_page``).
"""

__version__ = "0.1.0"
