"""The parse workers of a large update: worker processes that never outlive the update.

A batch of many sources parses in a process pool (feedparser is CPU-bound). The pool's
processes come from a fork server, and nothing in them notices the update's death: a worker
holds both ends of its own task pipe, and the fork server (the workers' parent) lives as long
as any worker does; the resource tracker lives as long as either. Left alone after a SIGKILL
or a SIGTERM of the update, they would wait forever, 100+ MB each. So every worker watches
the process that made the pool and exits as soon as it ends; the fork server
and the resource tracker then see their pipes close and exit too.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor

from feeds.lifeline import when_ended


def parse_pool(workers: int, preload: list[str]) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that end when the process that made it ends."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=die_with,
        initargs=(os.getpid(),),
    )


def die_with(starter: int) -> None:
    """Run in each worker as it starts: exit when the process ``starter`` has ended (nobody
    is left to read this worker's results)."""
    when_ended(starter, lambda: os.kill(os.getpid(), signal.SIGKILL))
