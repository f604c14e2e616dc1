"""Operator commands, run with your AWS credentials:

    python -m figma_auth.admin delete-user FIGMA_USER_ID --table TABLE

(the region and credentials come from the usual AWS environment, e.g. AWS_REGION, AWS_PROFILE)

deletes every session and the Figma connection (profile and grant) stored for a user (e.g. a
GDPR request).
"""

from __future__ import annotations

import argparse
import sys

from figma_auth import aws
from figma_auth.store import Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figma_auth.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    delete = sub.add_parser("delete-user", help="delete all data stored for one Figma user id")
    delete.add_argument("user_id")
    delete.add_argument("--table", required=True, help="the stack's TableName output")
    args = parser.parse_args(argv)
    store = Store(table_name=args.table, client=aws.dynamodb())
    sessions = [s.id for s in store.user_sessions(args.user_id)]
    store.delete_sessions(sessions)
    store.delete_connection(args.user_id)
    print(f"deleted user {args.user_id}: {len(sessions)} session(s) and the Figma connection (profile and grant)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
