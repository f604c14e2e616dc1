"""The app's backend helper (clients/python's ``figma_auth_backend``, imported from the source tree
as a user's backend would vendor it) and ``backend(stack)``: that helper signed with the local
stack's credentials (testing/testing, us-east-1)."""

from __future__ import annotations

import sys

import boto3

from devstack.template import ROOT
from tests.support.stack import Stack

sys.path.insert(0, str(ROOT / "clients" / "python"))
from figma_auth_backend import FigmaAuthBackend, FigmaAuthError, RateLimited, ReauthRequired  # noqa: E402

__all__ = ["FigmaAuthBackend", "FigmaAuthError", "RateLimited", "ReauthRequired", "backend"]


def backend(stack: Stack) -> FigmaAuthBackend:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return FigmaAuthBackend(stack.api, session=session)
