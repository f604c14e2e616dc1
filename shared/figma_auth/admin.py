"""Operator commands, run with your AWS credentials:

    python -m figma_auth.admin delete-user FIGMA_USER_ID --table TABLE
    python -m figma_auth.admin index-connections --table TABLE

(the region and credentials come from the usual AWS environment, e.g. AWS_REGION, AWS_PROFILE)

deletes every session, the Figma connection (profile and grant) and Figma's remembered rate
limits stored for a user (e.g. a GDPR request), with the same use case as a disconnect
(``EndUser``), which keeps the rate limits (Figma still counts), and the user's own clear.

``index-connections``, once after upgrading a stack made before ``GET /connections`` existed,
lists the connections written before it (a sign-in lists a connection from then on).
"""

from __future__ import annotations

import argparse
import sys

from figma_auth import aws
from figma_auth.store import Store
from figma_auth.times import utcnow
from figma_auth.usecases.sessions import EndUser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figma_auth.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    delete = sub.add_parser("delete-user", help="delete all data stored for one Figma user id")
    delete.add_argument("user_id")
    delete.add_argument("--table", required=True, help="the stack's TableName output")
    index = sub.add_parser("index-connections", help="list the connections made before GET /connections existed")
    index.add_argument("--table", required=True, help="the stack's TableName output")
    args = parser.parse_args(argv)
    store = Store(table_name=args.table, client=aws.dynamodb(aws.session()))
    if args.command == "index-connections":
        print(f"listed {store.list_unlisted_connections(now=utcnow())} connection(s) made before the listing")
        return 0
    sessions = len(store.user_sessions(args.user_id))
    # An operator's deletion notifies no app (no event bus is configured here).
    EndUser(store=store, publish=lambda detail_type, detail: None, offline_access=False, clock=utcnow)(
        args.user_id, disconnect=True
    )
    store.delete_rate_limits(args.user_id)
    print(
        f"deleted user {args.user_id}: {sessions} session(s), the Figma connection (profile and grant) "
        "and its rate limits"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
