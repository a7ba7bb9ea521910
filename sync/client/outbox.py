"""The device's SQLite outbox: queued operations, the sent archive, pulled rows and sync state.

Every change of state is one SQLite transaction (WAL, synchronous=FULL), so a kill at any moment
leaves either the state before or the state after: an op is in the outbox or in the archive, a
pulled page is applied together with its cursor or not at all. Nothing here deletes an unsent op;
auth failures, revocation and epoch changes only ever add or move rows.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sync.errors import EnvelopeInvalid
from sync.protocol import FINAL_STATUSES
from sync.protocol import Operation
from sync.protocol import OpResult
from sync.protocol import PullPage
from sync.protocol import format_time

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS outbox (
    n INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT UNIQUE NOT NULL, body TEXT NOT NULL, queued_at TEXT);
CREATE TABLE IF NOT EXISTS archive (
    n INTEGER PRIMARY KEY, op_id TEXT UNIQUE NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
    result TEXT NOT NULL, epoch TEXT, acked_at TEXT);
CREATE TABLE IF NOT EXISTS heads (sub TEXT PRIMARY KEY, op_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    bucket TEXT NOT NULL, key TEXT NOT NULL, v INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (bucket, key));
"""


def refuse_unsendable(op: dict) -> None:
    """Raise ``EnvelopeInvalid`` for an operation the server would reject: it must never enter the queue.

    The same parser as the server's (bounds included), so a lone surrogate, an integer beyond 64 bits
    or a value nested too deeply is refused here, where a person can still fix it, rather than
    sent again and again.
    """
    parsed = Operation.from_wire(op)
    if parsed.problems:
        raise EnvelopeInvalid("The server would refuse this operation; it was not queued.",
                              errors=list(parsed.problems))


class Outbox:
    """The device-side store of the sync client."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        # Autocommit mode: every transaction is an explicit BEGIN IMMEDIATE ... COMMIT below.
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one local transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- state ---------------------------------------------------------------------------------
    def get(self, key: str, default=None):
        """Return a state value (device_id, token, epoch, cursor, server, limits)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def _set(self, db: sqlite3.Connection, key: str, value) -> None:
        db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
                   (key, json.dumps(value), json.dumps(value)))

    def set(self, **values) -> None:
        """Set state values in one transaction."""
        with self.transaction() as db:
            for key, value in values.items():
                self._set(db, key, value)

    # -- enqueue ---------------------------------------------------------------------------------
    def enqueue(self, op: dict) -> dict:
        """Queue one operation (its ``id`` made here if absent); return it as it will be sent."""
        op = dict(op)
        op.setdefault("id", str(uuid.uuid4()))
        refuse_unsendable(op)
        with self.transaction() as db:
            cur = db.execute("INSERT INTO outbox (op_id, body, queued_at) VALUES (?, '', ?)",
                             (op["id"], format_time(dt.datetime.now(dt.UTC))))
            op["n"] = cur.lastrowid
            db.execute("UPDATE outbox SET body = ? WHERE n = ?", (json.dumps(op), op["n"]))
            if op.get("sub"):
                db.execute("INSERT INTO heads (sub, op_id) VALUES (?, ?) ON CONFLICT (sub) DO UPDATE "
                           "SET op_id = excluded.op_id", (op["sub"], op["id"]))
        return op

    def restore(self, ops: list[dict]) -> int:
        """Queue operations kept from another outbox (a phone restored from backup); return how many.

        Each keeps its id, number and bytes, so the server dedupes what it had by op id.
        """
        added = 0
        with self.transaction() as db:
            for op in sorted(ops, key=lambda op: op["n"]):
                added += db.execute("INSERT OR IGNORE INTO outbox (n, op_id, body, queued_at) "
                                    "VALUES (?, ?, ?, ?)", (op["n"], op["id"], json.dumps(op),
                                                            format_time(dt.datetime.now(dt.UTC)))).rowcount
                if op.get("sub"):
                    db.execute("INSERT INTO heads (sub, op_id) VALUES (?, ?) ON CONFLICT (sub) DO UPDATE "
                               "SET op_id = excluded.op_id", (op["sub"], op["id"]))
        return added

    def export(self) -> list[dict]:
        """Return every operation this outbox holds, queued or archived, in order (a backup's content)."""
        rows = self._db.execute("SELECT n, body FROM outbox UNION ALL SELECT n, body FROM archive ORDER BY 1")
        return [json.loads(body) for _, body in rows]

    def head_of(self, sub: str) -> str | None:
        """Return the id of the latest operation queued for a submission (the base of a correction)."""
        row = self._db.execute("SELECT op_id FROM heads WHERE sub = ?", (sub,)).fetchone()
        return row[0] if row else None

    # -- push ------------------------------------------------------------------------------------
    def pending(self, limit: int) -> list[dict]:
        """Return up to ``limit`` queued operations, oldest first."""
        rows = self._db.execute("SELECT body FROM outbox ORDER BY n LIMIT ?", (limit,)).fetchall()
        return [json.loads(body) for (body,) in rows]

    def settle(self, results: list[OpResult], epoch: str) -> int:
        """Move every finally-settled operation to the archive in one transaction; return how many."""
        moved = 0
        now = format_time(dt.datetime.now(dt.UTC))
        with self.transaction() as db:
            for result in results:
                if result.status not in FINAL_STATUSES:
                    continue
                row = db.execute("SELECT n, body FROM outbox WHERE op_id = ?", (result.id,)).fetchone()
                if row is None:
                    continue  # settled by an earlier answer already
                db.execute("INSERT OR REPLACE INTO archive (n, op_id, body, status, result, epoch, acked_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (row[0], result.id, row[1], result.status, json.dumps(result.to_wire()),
                            epoch, now))
                db.execute("DELETE FROM outbox WHERE n = ?", (row[0],))
                moved += 1
            if self.get("epoch") is None:
                self._set(db, "epoch", epoch)
        return moved

    def _requeue(self, db: sqlite3.Connection, epoch: str) -> int:
        # Back into the outbox with their original numbers, so they go up before newer ops.
        count = db.execute("INSERT OR IGNORE INTO outbox (n, op_id, body, queued_at) "
                           "SELECT n, op_id, body, acked_at FROM archive").rowcount
        db.execute("DELETE FROM archive WHERE op_id IN (SELECT op_id FROM outbox)")
        self._set(db, "epoch", epoch)
        self._set(db, "cursor", None)
        return count

    def requeue_lost(self, acked_n: int | None, epoch: str) -> int:
        """Queue again what the server acknowledged in ``epoch`` but no longer has; return the count.

        The server's ``ack`` is the highest operation number it holds from this device. An archived
        operation numbered above it was acknowledged and then lost: the database was restored from a
        backup that kept its epoch. Operations archived as ``duplicate`` are left out (a re-sent one
        that the server did have), so a second look never re-sends the same operations again.
        """
        with self.transaction() as db:
            count = db.execute("INSERT OR IGNORE INTO outbox (n, op_id, body, queued_at) "
                               "SELECT n, op_id, body, acked_at FROM archive "
                               "WHERE epoch = ? AND status != 'duplicate' AND n > ?",
                               (epoch, -1 if acked_n is None else acked_n)).rowcount
            db.execute("DELETE FROM archive WHERE op_id IN (SELECT op_id FROM outbox)")
        return count

    def archived(self) -> int:
        """Return how many operations the sent archive holds."""
        return self._db.execute("SELECT count(*) FROM archive").fetchone()[0]

    def requeue_archive(self, epoch: str) -> int:
        """After an epoch change: queue the sent archive again and adopt ``epoch``; return the count."""
        with self.transaction() as db:
            return self._requeue(db, epoch)

    def prune_archive(self, before: dt.datetime) -> int:
        """Forget archived operations acknowledged before ``before`` (the retention window)."""
        with self.transaction() as db:
            return db.execute("DELETE FROM archive WHERE acked_at < ?", (format_time(before),)).rowcount

    # -- pull ------------------------------------------------------------------------------------
    def apply_page(self, page: PullPage) -> bool:
        """Apply a pulled page and its cursor in one transaction; True if the epoch changed."""
        with self.transaction() as db:
            known = self.get("epoch")
            changed = known is not None and page.epoch != known
            if changed:
                self._requeue(db, page.epoch)
            elif known is None:
                self._set(db, "epoch", page.epoch)
            for name in page.removed:
                db.execute("DELETE FROM rows WHERE bucket = ?", (name,))
            for name, bucket in page.buckets.items():
                if bucket.reset:
                    db.execute("DELETE FROM rows WHERE bucket = ?", (name,))
                for change in bucket.changes:
                    if change["op"] == "del":
                        db.execute("DELETE FROM rows WHERE bucket = ? AND key = ? AND v <= ?",
                                   (name, change["key"], change["v"]))
                    else:
                        # Re-applying a page is harmless: an older version never replaces a newer one.
                        db.execute("INSERT INTO rows (bucket, key, v, data) VALUES (?, ?, ?, ?) "
                                   "ON CONFLICT (bucket, key) DO UPDATE SET v = excluded.v, "
                                   "data = excluded.data WHERE excluded.v >= rows.v",
                                   (name, change["key"], change["v"], json.dumps(change["d"])))
            self._set(db, "cursor", page.cursor)
        return changed

    def rows(self, bucket: str) -> dict[str, dict]:
        """Return the pulled rows of a bucket."""
        return {key: json.loads(data) for key, data in
                self._db.execute("SELECT key, data FROM rows WHERE bucket = ? ORDER BY key", (bucket,))}

    # -- status ----------------------------------------------------------------------------------
    def status(self) -> dict:
        """Return counts and state for people and the CLI."""
        by_status = dict(self._db.execute("SELECT status, COUNT(*) FROM archive GROUP BY status").fetchall())
        problems = [json.loads(r) for (r,) in self._db.execute(
            "SELECT result FROM archive WHERE status IN ('quarantined', 'rejected', 'op-id-reused') "
            "ORDER BY n")]
        return {
            "device_id": self.get("device_id"), "server": self.get("server"), "epoch": self.get("epoch"),
            "enrolled": self.get("token") is not None,
            "pending": self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0],
            "archived": by_status, "problems": problems, "clock_skew_s": self.get("clock_skew_s"),
            "last_push_at": self.get("last_push_at"), "last_pull_at": self.get("last_pull_at"),
        }
