"""Benchmark: awareness answer documents validated per second on one core (target ≥ 5,000/s).

Run: python tests/bench/bench_forms_validate.py  (prints figures and one BENCH line per figure)
"""

from __future__ import annotations

import csv
import json
import random
import statistics
import sys
import time
from pathlib import Path

TARGET = 5000.0
RUNS = 7
DOCS = 500


def documents(form, library, n: int, seed: int = 1) -> list[dict]:
    """A fixed mix of realistic documents: mostly complete interviews, some refusals."""
    rng = random.Random(seed)
    communes: dict[str, list[str]] = {}
    with open(library.FOLDER / "communes.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            communes.setdefault(row["district"], []).append(row["name"])

    def pick(list_name):
        return rng.choice([c.name for c in form.choices[list_name]])

    docs = []
    for _ in range(n):
        doc = {"round": pick("round"), "consent": "yes" if rng.random() < 0.9 else "no"}
        if doc["consent"] == "yes":
            district = rng.choice(sorted(communes))
            plan_away = pick("ynd")
            doc["profile"] = {
                "sex": pick("sex"), "age": rng.randint(15, 80), "marital": pick("marital"),
                "education": pick("education"), "occupation": pick("occupation"),
                "district": district, "commune": rng.choice(communes[district]),
                "plan_away": plan_away, "plan_abroad": "no",
            }
            doc["knowledge"] = {q.name: pick(q.choices)
                                for q in form.question("knowledge").children
                                if q.type == "select_one"}
            doc["knowledge"]["report_where"] = ["police", "hotline"]
            doc["risk"] = {q.name: pick("ynd") for q in form.question("risk").children}
            if plan_away != "yes":
                del doc["risk"]["risk_broker"]
            channels = rng.sample([c.name for c in form.choices["channel"]], 3)
            doc["exposure"] = {"heard_any": "yes", "channels": channels,
                               "channel_main": channels[0]}
        docs.append(doc)
    return docs


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    try:
        from forms import library

        form = library.load("awareness")
        docs = documents(form, library, DOCS)
        invalid = sum(1 for d in docs if form.validate(d))
        if invalid:
            print(f"warning: {invalid} generated documents have issues")
    except Exception as err:  # noqa: BLE001 - the benchmark reports, it does not judge
        print(f"could not run: {err!r}", file=sys.stderr)
        return 1
    rates = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for doc in docs:
            form.validate(doc)
        rates.append(len(docs) / (time.perf_counter() - start))
    median = statistics.median(rates)
    print(f"awareness validations: median {median:,.0f}/s over {RUNS} runs of {DOCS} documents "
          f"(min {min(rates):,.0f}, max {max(rates):,.0f}); target {TARGET:,.0f}/s")
    print("BENCH " + json.dumps({
        "name": "forms.validate.awareness", "value": round(median, 1), "unit": "docs/s",
        "target": TARGET, "ratio": round(median / TARGET, 3), "baseline": None,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
