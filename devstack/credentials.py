"""The local stack's one identity, in a module that imports nothing of the dev stack: the
moto server's S3 checks (devstack/s3_strict.py, served by devstack/moto_server.py, which
devstack/aws.py starts) and API Gateway's SigV4 check (devstack/sigv4.py) both need its secret."""

from __future__ import annotations

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
