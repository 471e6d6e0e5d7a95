"""gunicorn reads this file from the folder it starts in (the Procfile's `web`).

Bind, workers and threads are on the command line. Here: the model loaded (and warmed up with one
prediction) at each worker's start when `TRIAGE_PRELOAD_MODEL` is true (after the fork: nothing of torch crosses it), and the Prometheus
multiprocess bookkeeping.

With `PROMETHEUS_MULTIPROC_DIR` set, each process keeps its metrics in files in that folder and
`GET /metrics` adds them up. At start the folder is created and the files of processes that no longer
run are removed (a counter then restarts from zero, which Prometheus' rate() expects); when a worker
exits, its live gauges are dropped.
"""
import glob
import os

_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def on_starting(server):
    if not _MULTIPROC_DIR:
        return
    os.makedirs(_MULTIPROC_DIR, exist_ok=True)
    for path in glob.glob(os.path.join(_MULTIPROC_DIR, "*.db")):
        pid = os.path.basename(path)[:-3].rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            os.remove(path)


def child_exit(server, worker):
    if _MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    runtime = getattr(worker.wsgi, "extensions", {}).get("triage")
    if runtime is not None and runtime.settings.triage_preload_model:
        runtime.models.get()  # loads and warms the model (webhooks.model_holder)
