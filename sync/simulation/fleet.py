"""A device-fleet simulator: enumerators interview offline and sync with the real client over bad links.

Each simulated device is a ``SyncClient`` with its own SQLite ``Outbox``; what reaches the server goes
through a ``FaultyTransport`` wrapped around whatever transport the caller gives (real HTTP, the app
in-process, a ``LocalTransport``). The simulation is deterministic for a seed, except for what the
server itself decides. ``FleetReport.check`` then says whether the server holds every generated
submission exactly once.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from sync.client.agent import SyncClient
from sync.client.outbox import Outbox
from sync.client.transports import PUSH_PATH
from sync.client.transports import Response
from sync.client.transports import Transport
from sync.errors import TransportFailed

#: Where the interviews happen: Cần Thơ keeps Indochina time.
LOCAL_ZONE = dt.timezone(dt.timedelta(hours=7))
#: Link faults a ``FaultyTransport`` injects, in the order they are drawn.
LINK_FAULTS = ("drop", "lose_answer", "busy", "duplicate", "slow")
_SKEWS_S = (3600, 6 * 3600, 26 * 3600, 40 * 86400, 365 * 86400, 2 * 365 * 86400)


@dataclass(frozen=True)
class FaultPlan:
    """How often each fault happens: per request for link faults, per device for clocks."""

    drop: float = 0.0          # the request is lost before the server sees it
    lose_answer: float = 0.0   # the server commits, the answer is lost on the way back
    busy: float = 0.0          # a 503 or 429 with Retry-After instead of the server's answer
    duplicate: float = 0.0     # a push is delivered twice (a proxy or the radio replays it)
    slow: float = 0.0          # the request waits ``slow_s`` seconds on the link first
    slow_s: tuple[float, float] = (0.0, 0.002)
    skewed_devices: float = 0.0  # share of devices whose clock is off by an hour to two years
    reinstalls: int = 0        # devices whose app is reinstalled halfway (outbox file lost)

    @classmethod
    def harsh(cls) -> FaultPlan:
        """Return a plan with every kind of fault, often enough to hit each many times."""
        return cls(drop=0.06, lose_answer=0.06, busy=0.04, duplicate=0.04, slow=0.05,
                   skewed_devices=0.5, reinstalls=1)


class FaultyTransport:
    """Wraps a transport and injects link faults into pushes and pulls (never into enrolment)."""

    def __init__(self, inner: Transport, plan: FaultPlan, rng: random.Random, *, tally: Counter | None = None,
                 requests: Counter | None = None, delay: Callable[[float], None] = time.sleep):
        self.inner, self.plan, self.rng, self.delay = inner, plan, rng, delay
        self.tally = Counter() if tally is None else tally  # injected faults by kind
        self.requests = Counter() if requests is None else requests  # requests by path

    def _draw(self, path: str) -> str | None:
        roll = self.rng.random()
        for kind in LINK_FAULTS:
            chance = getattr(self.plan, kind)
            if kind == "duplicate" and path != PUSH_PATH:
                continue
            if roll < chance:
                return kind
            roll -= chance
        return None

    def send(self, path: str, body: dict, token: str | None) -> Response:
        """Send one request through the link, perhaps faulty."""
        self.requests[path] += 1
        if path not in (PUSH_PATH, "/api/v1/sync/pull"):
            return self.inner.send(path, body, token)
        fault = self._draw(path)
        if fault:
            self.tally[fault] += 1
        if fault == "drop":
            raise TransportFailed("request lost on the link (injected)")
        if fault == "busy":
            status = self.rng.choice((429, 503))
            retry_after = self.rng.choice((1, 5, 30))
            headers = {"retry-after": str(retry_after), "content-type": "application/problem+json"}
            code = "too-many-requests" if status == 429 else "service-unavailable"
            return Response(status, headers, {"code": code, "status": status, "detail": "injected"})
        if fault == "slow":
            self.delay(self.rng.uniform(*self.plan.slow_s))
        answer = self.inner.send(path, body, token)
        if fault == "duplicate":
            answer = self.inner.send(path, body, token)  # the device reads the replay's answer
        if fault == "lose_answer":
            raise TransportFailed("answer lost after the server committed (injected)")
        return answer


@dataclass(frozen=True)
class DeviceSpec:
    """One simulated enumerator's device: its index, label and what it is assigned."""

    index: int
    label: str
    communes: tuple[str, ...]
    quotas: Mapping[tuple[int, str], int]  # (round, commune key) -> interviews allocated


@dataclass
class Verdict:
    """The outcome of comparing the server's submissions with what the fleet generated."""

    lost: list[str]
    duplicated: list[str]
    unexpected: list[str]

    @property
    def ok(self) -> bool:
        """True when the server holds every generated submission exactly once and nothing else."""
        return not (self.lost or self.duplicated or self.unexpected)

    def __str__(self) -> str:
        return (f"lost {len(self.lost)} {self.lost[:5]}, duplicated {len(self.duplicated)} "
                f"{self.duplicated[:5]}, unexpected {len(self.unexpected)} {self.unexpected[:5]}")


@dataclass
class FleetReport:
    """What the simulation generated, what the server acknowledged, and what it took."""

    devices: list[DeviceSpec]
    generated: dict[str, object]  # submission id -> the generated interview or activity
    acknowledged: int = 0         # creates the server settled as created or duplicate
    statuses: Counter = field(default_factory=Counter)  # final statuses received, by status
    faults: Counter = field(default_factory=Counter)    # injected faults by kind
    requests: Counter = field(default_factory=Counter)  # requests sent, by path
    retries: int = 0              # backoff waits the clients made
    backoff_s: float = 0.0        # seconds they would have waited
    gave_up: int = 0              # syncs abandoned after the client's last attempt (tried again later)
    reinstalls: int = 0
    restored_ops: int = 0         # operations re-queued from a backup after a reinstall
    pending: int = 0              # operations still queued at the end (should be 0)
    skews_s: list[int] = field(default_factory=list)
    elapsed_s: float = 0.0

    def check(self, server_submission_ids: Iterable[str] | Mapping[str, int]) -> Verdict:
        """Compare the server's submission ids (or ids -> revision counts) with the generated ones."""
        return verify(self.generated, server_submission_ids)

    def summary(self) -> dict:
        """Return the figures as plain data, for printing."""
        return {"devices": len(self.devices), "generated": len(self.generated),
                "acknowledged": self.acknowledged, "statuses": dict(self.statuses),
                "faults": dict(self.faults), "requests": sum(self.requests.values()),
                "retries": self.retries, "backoff_s": round(self.backoff_s, 1),
                "gave_up": self.gave_up, "reinstalls": self.reinstalls, "restored_ops": self.restored_ops,
                "pending": self.pending, "skewed_devices": sum(1 for s in self.skews_s if s),
                "elapsed_s": round(self.elapsed_s, 1)}


def verify(generated: Iterable[str], server_submission_ids: Iterable[str] | Mapping[str, int]) -> Verdict:
    """Compare server submission ids (a list, or ids -> revision counts) with the generated ids."""
    if isinstance(server_submission_ids, Mapping):
        counts = Counter({k: int(v) for k, v in server_submission_ids.items()})
    else:
        counts = Counter(server_submission_ids)
    expected = set(generated)
    return Verdict(lost=sorted(expected - set(counts)),
                   duplicated=sorted(k for k, n in counts.items() if n > 1),
                   unexpected=sorted(set(counts) - expected))


def allocate(items: list, devices: int, seed: int) -> tuple[list[DeviceSpec], list[list]]:
    """Assign communes to devices and give each item to a device covering its commune.

    Items without a ``commune_key`` (outreach activities) go to any device.
    """
    rng = random.Random(seed)
    communes = sorted({c for c in (getattr(i, "commune_key", None) for i in items) if c})
    rng.shuffle(communes)
    covering: dict[str, list[int]] = {}
    for n, commune in enumerate(communes):
        covering.setdefault(commune, []).append(n % devices)
    for extra in range(len(communes), devices if communes else 0):  # more devices than communes: they share
        covering[communes[extra % len(communes)]].append(extra)
    work: list[list] = [[] for _ in range(devices)]
    quotas: list[Counter] = [Counter() for _ in range(devices)]
    for item in items:
        commune = getattr(item, "commune_key", None)
        index = rng.choice(covering[commune]) if commune else rng.randrange(devices)
        work[index].append(item)
        if commune:
            quotas[index][(item.round, commune)] += 1
    for queue in work:
        queue.sort(key=lambda i: (i.round, i.day))  # a device works through the rounds in order
    specs = [DeviceSpec(index=i, label=f"phone {i + 1:03d}",
                        communes=tuple(sorted(c for c, owners in covering.items() if i in owners)),
                        quotas=dict(quotas[i])) for i in range(devices)]
    return specs, work


class _Device:
    """One phone in the simulation: its outbox, client, clock and remaining work."""

    def __init__(self, spec: DeviceSpec, work: list, sim: _Simulation):
        self.spec, self.work, self.sim = spec, work, sim
        self.rng = random.Random(f"{sim.seed}:{spec.index}")
        skewed = self.rng.random() < sim.faults.skewed_devices
        offset = self.rng.choice((-1, 1)) * self.rng.choice(_SKEWS_S)
        self.skew = dt.timedelta(seconds=offset if skewed else 0)
        self.installs = 0
        self.transport = FaultyTransport(sim.transport_factory(spec.index), sim.faults, self.rng,
                                         tally=sim.report.faults, requests=sim.report.requests,
                                         delay=sim.delay)
        self.install()

    def install(self) -> None:
        """Install the app: a fresh outbox file, enrolled with a new one-time code."""
        self.path = Path(self.sim.outbox_dir) / f"device-{self.spec.index:03d}-{self.installs}.sqlite"
        self.outbox = Outbox(self.path)
        self.client = SyncClient(self.outbox, self.transport, sleep=self.sim.backoff_sleep, rng=self.rng,
                                 clock=lambda: dt.datetime.now(dt.UTC) + self.skew,
                                 batch_size=self.sim.batch_size)
        self.client.enrol(self.sim.new_code(self.spec), self.spec.label)
        self.installs += 1

    def interview(self, count: int) -> None:
        """Do up to ``count`` interviews offline: each is queued with the device's (skewed) time."""
        for item in self.work[:count]:
            start = dt.datetime.combine(item.day, dt.time(7), LOCAL_ZONE)
            at = start + dt.timedelta(minutes=self.rng.randrange(11 * 60)) + self.skew
            self.client.create(item.form_id, item.version, item.answers, at=at, sub=item.sub_id)
        del self.work[:count]

    def sync(self) -> None:
        """Sync as a phone does when it finds a signal: a failure is left for the next chance."""
        try:
            self.client.sync()
        except TransportFailed:
            self.sim.report.gave_up += 1

    def acknowledged(self) -> int:
        """Return how many of this phone's operations the server has acknowledged so far."""
        archived = self.outbox.status()["archived"]
        return sum(count for name, count in archived.items() if name in ("created", "duplicate"))

    def reinstall(self) -> None:
        """Lose the app's database; restore its operations from a kept copy under a new enrolment.

        The copy is taken at the moment of loss (an export on the SD card, a cloud backup of the
        day): queued and already-acknowledged operations alike come back, with their ids and bytes.
        """
        kept = self.outbox.export()
        self.outbox.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.install()
        self.sim.report.restored_ops += self.outbox.restore(kept)
        self.sim.report.reinstalls += 1


@dataclass
class _Simulation:
    """What every device of one run shares."""

    seed: int
    faults: FaultPlan
    transport_factory: Callable[[int], Transport]
    new_code: Callable[[DeviceSpec], str]
    outbox_dir: str | Path
    sleep: Callable[[float], None]
    delay: Callable[[float], None]
    batch_size: int
    report: FleetReport

    def backoff_sleep(self, seconds: float) -> None:
        self.report.retries += 1
        self.report.backoff_s += seconds
        self.sleep(seconds)


def simulate(season_interviews: Iterable, *, devices: int, transport_factory: Callable[[int], Transport],
             new_code: Callable[[DeviceSpec], str], faults: FaultPlan = FaultPlan(), seed: int = 0,
             outbox_dir: str | Path, sleep: Callable[[float], None] = lambda s: None,
             delay: Callable[[float], None] = time.sleep, batch_size: int = 100,
             chunk: tuple[int, int] = (5, 40), sync_chance: float = 0.35,
             drain_rounds: int = 30, progress: Callable[[int, int], None] | None = None) -> FleetReport:
    """Run a fleet over ``season_interviews`` (interviews and activities); return its report.

    ``transport_factory(i)`` reaches the server for device ``i``; ``new_code(spec)`` returns a fresh
    one-time enrolment code for that device's enumerator (called again on a reinstall). ``sleep``
    receives the clients' backoff waits (default: none, the time is only counted); ``delay`` the
    slow links' waits. ``progress(acknowledged, total)`` is called after every sync.
    """
    started = time.perf_counter()
    items = list(season_interviews)
    ids = [item.sub_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("the generated submissions repeat an id")
    specs, work = allocate(items, devices, seed)
    report = FleetReport(devices=specs, generated=dict(zip(ids, items, strict=True)))
    sim = _Simulation(seed=seed, faults=faults, transport_factory=transport_factory, new_code=new_code,
                      outbox_dir=outbox_dir, sleep=sleep, delay=delay, batch_size=batch_size, report=report)
    Path(outbox_dir).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    fleet = [_Device(spec, queue, sim) for spec, queue in zip(specs, work, strict=True)]

    def synced(device: _Device) -> None:
        device.sync()
        if progress is not None:
            progress(sum(d.acknowledged() for d in fleet), len(items))

    report.skews_s = [int(d.skew.total_seconds()) for d in fleet]
    candidates = [d for d in fleet if len(d.work) >= 4]
    to_reinstall = {d.spec.index: len(d.work) // 2 for d in rng.sample(candidates, min(faults.reinstalls,
                                                                                     len(candidates)))}
    # The field season: phones work offline for a while, then sync when they find a signal.
    active = [d for d in fleet if d.work]
    while active:
        device = rng.choice(active)
        device.interview(rng.randint(*chunk))
        half = to_reinstall.get(device.spec.index)
        if half is not None and len(device.work) <= half:
            del to_reinstall[device.spec.index]
            synced(device)  # something in the archive, then unsent work in the outbox
            device.interview(rng.randint(*chunk))
            device.reinstall()
        elif rng.random() < sync_chance:
            synced(device)
        active = [d for d in fleet if d.work]
    # The end of the season: every phone comes back to the office and syncs until its outbox is empty.
    for _ in range(drain_rounds):
        waiting = [d for d in fleet if d.outbox.status()["pending"]]
        if not waiting:
            break
        for device in waiting:
            synced(device)
    _tally(fleet, report)
    report.elapsed_s = time.perf_counter() - started
    return report


def _tally(fleet: list[_Device], report: FleetReport) -> None:
    for device in fleet:
        status = device.outbox.status()
        report.pending += status["pending"]
        for name, count in status["archived"].items():
            report.statuses[name] += count
        report.acknowledged += sum(count for name, count in status["archived"].items()
                                   if name in ("created", "duplicate"))
        device.outbox.close()


__all__ = ["DeviceSpec", "FaultPlan", "FaultyTransport", "FleetReport", "Verdict", "allocate", "simulate",
           "verify"]
