"""One scheduled-refresh run in its own process, so its peak RSS can be measured alone.
Prints a JSON line: the batch report, wall seconds and DynamoDB items read by queries."""

from __future__ import annotations

import json
import time

from devstack.lambdas import Containers, LambdaContext, load_module


def main() -> None:
    from figma_auth import aws

    read = [0]
    aws._session().events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: read.__setitem__(0, read[0] + parsed.get("ScannedCount", 0))
    )
    fn = Containers().by_name("refresh_scheduler")
    handler = load_module(fn).lambda_handler
    started = time.perf_counter()
    report = handler({"source": "aws.events", "detail": {}}, LambdaContext(fn.logical_id, 900))
    seconds = time.perf_counter() - started
    print(json.dumps({"report": report, "seconds": seconds, "items_read": read[0], "rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's own high-water mark (VmHWM resets at exec; getrusage's ru_maxrss does not)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
