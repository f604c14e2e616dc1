"""figma_auth: "Sign in with Figma" for AWS Lambda.

The Lambda layer every function shares: the Figma OAuth exchange (``oauth``, ``figma``),
the DynamoDB + KMS token store (``store``, ``vault``), the use cases (``service``) and the
HTTP glue (``web``). Handlers in ``functions/`` are thin entry points into it.
"""

__version__ = "0.1.0"
