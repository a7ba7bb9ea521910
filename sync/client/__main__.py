"""``python -m sync.client``: enrol, status, push, pull and sync from a field laptop."""

from __future__ import annotations

import argparse
import json
import sys
import uuid

from sync.client.agent import SyncClient
from sync.client.outbox import Outbox
from sync.client.outbox import refuse_unsendable
from sync.client.transports import HttpTransport
from sync.errors import SyncError
from sync.transport import parse_json

EXAMPLES = """examples:
  python -m sync.client --db ferry.sqlite enrol --server https://ferry.example.org --code K7QX-3M9D-WPRT
  python -m sync.client --db ferry.sqlite queue --form awareness --version 2017.1 interview.json
  python -m sync.client --db ferry.sqlite status
  python -m sync.client --db ferry.sqlite sync
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog="python -m sync.client", epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     description="Ferry's device sync client (outbox in SQLite).")
    parser.add_argument("--db", default="ferry-outbox.sqlite", help="the outbox database file")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each answer")
    commands = parser.add_subparsers(dest="command", required=True)
    enrol = commands.add_parser("enrol", help="exchange a one-time code for this device's token")
    enrol.add_argument("--server", required=True, help="the server's base URL")
    enrol.add_argument("--code", required=True, help="the one-time enrolment code")
    enrol.add_argument("--label", default="", help="a name for this device")
    queue = commands.add_parser("queue", help="queue submissions from JSON files of answers")
    queue.add_argument("--form", required=True, help="the form id, e.g. awareness")
    queue.add_argument("--version", required=True, help="the form version the answers were filled in")
    queue.add_argument("files", nargs="+", help="JSON files, each one answer document")
    commands.add_parser("status", help="show the queue, the archive and the sync state")
    commands.add_parser("push", help="send every queued operation")
    commands.add_parser("pull", help="fetch forms, places, assignments and settings")
    commands.add_parser("sync", help="push, then pull")
    return parser


def _answers(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            answers = parse_json(fh.read())
    except ValueError as exc:  # not UTF-8, not JSON, or nested past what the parser can take
        raise SystemExit(f"{path}: not a JSON answer document: {exc}") from None
    if not isinstance(answers, dict):
        raise SystemExit(f"{path}: an answer document is a JSON object")
    return answers


def main(argv: list[str] | None = None, *, transport=None) -> int:
    """Run one command; return the exit status (0 ok, 1 refused or unreachable, 2 usage)."""
    args = build_parser().parse_args(argv)
    outbox = Outbox(args.db)
    try:
        if args.command == "enrol":
            outbox.set(server=args.server)
        server = outbox.get("server")
        if args.command not in ("status", "queue") and server is None and transport is None:
            print("not enrolled: run enrol --server URL --code CODE first", file=sys.stderr)
            return 2
        client = SyncClient(outbox, transport or HttpTransport(server or "", timeout=args.timeout))
        if args.command == "enrol":
            enrolment = client.enrol(args.code, args.label)
            result = {"device_id": enrolment.device_id, "epoch": enrolment.epoch}
        elif args.command == "queue":
            documents = [_answers(path) for path in args.files]
            for answers in documents:  # all or none: refuse before the first is queued
                refuse_unsendable({"id": "check", "kind": "create", "sub": str(uuid.uuid4()),
                                   "form": args.form, "ver": args.version, "ans": answers})
            queued = [client.create(args.form, args.version, answers) for answers in documents]
            result = {"queued": queued}
        elif args.command == "status":
            result = outbox.status()
        elif args.command == "push":
            result = client.push()
        elif args.command == "pull":
            result = {"pages": client.pull()}
        else:
            result = client.sync()
    except SyncError as exc:
        print(f"{exc.code}: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        outbox.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
