"""Imported once by the worker fork server: third-party packages only, never the layer
(``figma_auth``) or a handler, whose import is each worker's own cold start."""

import boto3  # noqa: F401
import botocore.session  # noqa: F401
import httpx  # noqa: F401
import pydantic  # noqa: F401
import yaml  # noqa: F401
from aws_lambda_powertools import Logger, Metrics  # noqa: F401
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver  # noqa: F401
from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: F401
