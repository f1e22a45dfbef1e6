"""Run a reference engine in a process of its own: its memory (peak RSS) is measured apart from ours, and
nothing it imports or leaves behind touches the next engine."""

import multiprocessing as mp
import resource
from collections.abc import Callable
from typing import Any


def _child(target: Callable[..., dict], args: tuple[Any, ...], queue: Any) -> None:
    result = target(*args)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(result)


def in_own_process(target: Callable[..., dict], *args: Any) -> dict:
    """`target(*args)` (a module-level function returning a dict) in a spawned process, with its "peak_mb"."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(target, args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result
