"""Micro-batching: concurrent requests are queued and sent to the model together.

One model call costs about the same for 1 sentence as for 30 (the per-call overhead and
the matrix kernels dominate), so requests that arrive while the model is busy, or within
``max_wait`` of each other, are merged into one call of up to ``max_batch_tokens``
estimated tokens. The model sorts the merged items by length and pads per sub-batch
(``StanceClassifier._logits``), so merging short and long requests wastes little.

The queue is bounded in items: when it is full, ``submit`` raises ``QueueFull`` at once
(the route answers 503 with Retry-After) instead of growing a backlog without bound.
All model calls run one at a time on a single executor thread, shared by every batcher of
a process, so the model is never called from two threads at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Callable


class QueueFull(Exception):
    """The queue holds ``max_queue`` items already."""


@dataclass
class _Job:
    items: list
    cost: int
    future: asyncio.Future
    arrived: float = field(default_factory=time.monotonic)


class MicroBatcher:
    def __init__(self, run: Callable[[list], list], executor: Executor, *, cost: Callable[[object], int],
                 max_batch_tokens: int, max_wait_ms: float, max_queue: int,
                 on_batch: Callable[[int, int], None] | None = None):
        """``run(items) -> results`` (one result per item, same order) is the model call."""
        self.run, self.executor, self.cost = run, executor, cost
        self.max_batch_tokens, self.max_wait = max_batch_tokens, max_wait_ms / 1000.0
        self.max_queue, self.on_batch = max_queue, on_batch
        self._queue: deque[_Job] = deque()
        self.queued_items = 0
        self._queued_cost = 0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for job in self._queue:
            if not job.future.done():
                job.future.set_exception(RuntimeError("the server is shutting down"))
        self._queue.clear()

    async def submit(self, items: list, timeout: float) -> list:
        """Results for ``items``; ``QueueFull`` when there is no room, ``TimeoutError`` past ``timeout``."""
        if self.queued_items + len(items) > self.max_queue:
            raise QueueFull(f"{self.queued_items} items queued; the limit is {self.max_queue} (--max-queue)")
        job = _Job(items, sum(self.cost(x) for x in items), asyncio.get_running_loop().create_future())
        self._queue.append(job)
        self.queued_items += len(items)
        self._queued_cost += job.cost
        self._wakeup.set()
        # On timeout wait_for cancels the future; the loop then drops the job unrun (or,
        # when it is already running, throws its results away).
        return await asyncio.wait_for(job.future, timeout)

    def _pop(self) -> _Job:
        job = self._queue.popleft()
        self.queued_items -= len(job.items)
        self._queued_cost -= job.cost
        return job

    def _take(self) -> list[_Job]:
        """Whole jobs, oldest first, up to the token budget (always at least one)."""
        batch, cost = [], 0
        while self._queue:
            job = self._queue[0]
            if job.future.done():  # cancelled: its deadline passed while it waited
                self._pop()
                continue
            if batch and cost + job.cost > self.max_batch_tokens:
                break
            batch.append(self._pop())
            cost += job.cost
        return batch

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            # Wait for company, but only up to max_wait after the oldest job arrived: jobs
            # that queued while the previous batch ran go at once.
            while self._queued_cost < self.max_batch_tokens:
                remaining = self._queue[0].arrived + self.max_wait - time.monotonic()
                if remaining <= 0:
                    break
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), remaining)
                except TimeoutError:
                    break
            batch = self._take()
            if not batch:
                continue
            flat = [x for job in batch for x in job.items]
            try:
                results = await loop.run_in_executor(self.executor, self.run, flat)
            except Exception as e:  # a model failure answers its own requests, never stops the loop
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(e)
                continue
            if self.on_batch:
                self.on_batch(len(flat), len(batch))
            k = 0
            for job in batch:
                if not job.future.done():
                    job.future.set_result(results[k : k + len(job.items)])
                k += len(job.items)
