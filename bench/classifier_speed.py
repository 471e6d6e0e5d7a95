"""Speed benchmark of a saved model: single predict p50/p99 (warm), batch tickets/s, artifact size, RSS.

    python bench/classifier_speed.py [--model DIR ...] [--data CSV --text COL[,COL]]

Default models: the artifacts bench/classifier_accuracy.py left in the temp folder (Endava and
multilingual), else the bundled starter. Each model is measured in a fresh process so the resident
memory is that of one process with one model loaded.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SINGLE_RUNS = 300
BATCH_ROWS = 2000
BATCH_SIZE = 256


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(model_dir: Path, data: Path | None, text: str) -> dict:
    from classifier.artifact import load_model
    from classifier.dataset import read_csvs, tickets_from_frame
    from classifier.ticket import Ticket

    started = time.perf_counter()
    model = load_model(model_dir)
    load_seconds = time.perf_counter() - started
    if data:
        tickets = tickets_from_frame(read_csvs([data]).head(BATCH_ROWS), text.split(","))
    else:
        tickets = [Ticket(subject=f"ticket {i}", body="my printer will not print and the invoice is wrong " * (1 + i % 5))
                   for i in range(BATCH_ROWS)]
    for ticket in tickets[:20]:
        model.predict(ticket)  # warm: lazy loads, caches
    timings = []
    for ticket in tickets[:SINGLE_RUNS]:
        begun = time.perf_counter()
        model.predict(ticket)
        timings.append((time.perf_counter() - begun) * 1000)
    begun = time.perf_counter()
    for start in range(0, len(tickets), BATCH_SIZE):
        model.predict_batch(tickets[start:start + BATCH_SIZE])
    batch_seconds = time.perf_counter() - begun
    size = sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file())
    return {"model": str(model_dir), "members": {m.name: list(m.members) for m in model.label_models},
            "embeddings": any(m.needs_embedding for m in model.label_models),
            "load_s": round(load_seconds, 2),
            "single_ms_p50": round(float(np.percentile(timings, 50)), 2),
            "single_ms_p99": round(float(np.percentile(timings, 99)), 2),
            "batch_tickets_per_s": round(len(tickets) / batch_seconds, 1),
            "artifact_mb": round(size / 2**20, 2), "rss_mb": round(rss_mb(), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--text", default="Document")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.model[0], args.data, args.text)))
        return 0
    from config.validation import load_settings

    datasets = load_settings().triage_datasets_dir.resolve()
    bench = Path(tempfile.gettempdir()) / "triage-bench"
    runs = [(m, args.data, args.text) for m in args.model] if args.model else [
        (bench / "endava-42", datasets / "endava-it-tickets/tickets.csv", "Document"),
        (bench / "multilang-42", datasets / "multilang-tickets/tickets.csv", "subject,body"),
        (REPO / "models" / "starter", None, "utterance"),
    ]
    for model_dir, data, text in runs:
        if not model_dir.is_dir():
            print(f"skip {model_dir}: not found (run bench/classifier_accuracy.py first)")
            continue
        command = [sys.executable, __file__, "--one", "--model", str(model_dir), "--text", text]
        if data:
            command += ["--data", str(data)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
        if done.returncode:
            print(done.stderr[-2000:])
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{result['model']}: members {result['members']} embeddings={result['embeddings']}")
        print(f"  single predict p50 {result['single_ms_p50']} ms, p99 {result['single_ms_p99']} ms (warm, {SINGLE_RUNS} runs)")
        print(f"  batch {result['batch_tickets_per_s']} tickets/s (batches of {BATCH_SIZE})")
        print(f"  artifact {result['artifact_mb']} MB, RSS {result['rss_mb']} MB, load {result['load_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
