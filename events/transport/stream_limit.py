"""The per-holder stream limit over every worker of a deployment.

Invariant: a holder (a user or a device, events/access/identity.py) holds at most
EVENTS_MAX_STREAMS_PER_USER streams served by the deployment's workers,
whichever workers they are on; a worker that dies stops counting within
EVENTS_STREAM_COUNT_SECONDS.

With Redis (REDIS_URL), each worker keeps its own count per holder in a
Redis hash per holder (field: the worker), and a heartbeat per worker in a
sorted set (score: until when it counts, in Redis's clock). An opening is
checked and counted in one Lua script, atomic over all workers: it sums the
counts of the workers whose heartbeat is fresh (dropping the others') and
adds one when the sum is below the limit. A closing takes one away. Every
worker renews its heartbeat every third of EVENTS_STREAM_COUNT_SECONDS; a
SIGKILLed worker's heartbeat is not renewed, so its streams stop counting
once it expires. The keys are named after the deployment's Redis channel
(events/core/log.py), so deployments sharing a Redis database never mix counts.
When Redis cannot be reached, a worker counts its own streams only (the
stream is not refused for it), and registers under a new name on the next
heartbeat that succeeds, its counts rewritten: the old name's counts then
expire, so a closing that Redis missed is not counted for ever.

Without Redis, the hub counts its own streams plus the other live
processes' as their last presence snapshots list them (events/presence/presence.py):
one interval behind at most; the embedded set-up has one process anyway.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket

from django.conf import settings

from events.core import log

logger = logging.getLogger(__name__)

_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

# KEYS: the holder's hash, the workers' set. ARGV: worker, limit, ttl (ms).
# Returns the holder's count with this stream, or -1 when refused.
ADMIT = (
    _NOW_MS
    + """
local total = 0
local counts = redis.call('HGETALL', KEYS[1])
for i = 1, #counts, 2 do
  local worker, count = counts[i], tonumber(counts[i + 1])
  local alive = redis.call('ZSCORE', KEYS[2], worker)
  if worker == ARGV[1] or (alive and tonumber(alive) >= now) then
    total = total + count
  else
    redis.call('HDEL', KEYS[1], worker)
  end
end
if total >= tonumber(ARGV[2]) then return -1 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], 3 * tonumber(ARGV[3]))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
return total + 1
"""
)

# KEYS: the holder's hash. ARGV: worker.
RELEASE = """
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""

# KEYS: the workers' set, then the hashes of the holders this worker serves.
# ARGV: worker, ttl (ms), rewrite (1: set this worker's counts), then one
# count per holder key. Renews the worker's heartbeat and its holders' keys.
HEARTBEAT = (
    _NOW_MS
    + """
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * ttl)
redis.call('PEXPIRE', KEYS[1], 10 * ttl)
for i = 2, #KEYS do
  if ARGV[3] == '1' then redis.call('HSET', KEYS[i], ARGV[1], ARGV[i + 2]) end
  redis.call('PEXPIRE', KEYS[i], 3 * ttl)
end
return now
"""
)


def ttl_seconds() -> float:
    return float(getattr(settings, "EVENTS_STREAM_COUNT_SECONDS", 15.0))


def workers_key() -> str:
    return f"{log.redis_channel()}:stream-workers"


def holder_key(holder: str) -> str:
    return f"{log.redis_channel()}:streams:{holder}"


def new_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class RedisStreamCounts:
    """A worker's side of the shared count. `admit` and `release` run on the
    hub's loop; `heartbeat_loop` is a hub task."""

    def __init__(self, hub):
        from redis.asyncio import Redis

        self.hub = hub
        self.client = Redis(**settings.EVENTSTREAM_REDIS)
        self.worker = new_worker_name()
        # A call failed: counts in Redis may be wrong under this name.
        self.stale = False
        self._admit = self.client.register_script(ADMIT)
        self._release = self.client.register_script(RELEASE)
        self._heartbeat = self.client.register_script(HEARTBEAT)
        self.pending: set[asyncio.Task] = set()

    def _ttl_ms(self) -> int:
        return max(1, int(ttl_seconds() * 1000))

    async def admit(self, holder: str, limit: int) -> bool:
        """Count a new stream of `holder` if the deployment's total allows it."""
        try:
            total = await self._admit(
                keys=[holder_key(holder), workers_key()], args=[self.worker, limit, self._ttl_ms()]
            )
        except Exception as exc:
            self.stale = True
            logger.warning("could not count a stream in Redis (%s); counting this worker's streams only", exc)
            return self.hub.open_streams(holder) < limit
        if int(total) < 0:
            return False
        if _cancelling():
            self.release(holder)  # counted, but the opening ends here (a swallowed cancellation)
            raise asyncio.CancelledError
        return True

    def release(self, holder: str) -> None:
        """Take a closed stream away (in a task of its own: a closing never
        waits on Redis)."""
        if self.stale:
            return  # the next heartbeat rewrites this worker's counts
        task = self.hub.loop.create_task(self._release_now(holder))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _release_now(self, holder: str) -> None:
        try:
            await self._release(keys=[holder_key(holder)], args=[self.worker])
        except Exception as exc:
            self.stale = True
            logger.warning("could not uncount a stream in Redis (%s)", exc)

    async def heartbeat(self) -> None:
        rewrite = self.stale
        worker = new_worker_name() if rewrite else self.worker
        counts = {holder: len(streams) for holder, streams in self.hub.by_holder.items() if streams}
        holders = list(counts)
        await self._heartbeat(
            keys=[workers_key(), *(holder_key(h) for h in holders)],
            args=[worker, self._ttl_ms(), "1" if rewrite else "0", *(counts[h] for h in holders)],
        )
        if rewrite:
            self.worker, self.stale = worker, False

    async def heartbeat_loop(self) -> None:
        """Looks for a pending cancellation after each call to Redis: redis-py's
        connection handshake can swallow one on Python 3.11 (events/transport/hub.py
        Hub._redis_loop), and the loop would then never end."""
        while True:
            try:
                await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stale = True
                logger.warning("could not renew this worker's stream count in Redis (%s)", exc)
            _raise_if_cancelled()
            await asyncio.sleep(ttl_seconds() / 3)

    async def close(self) -> None:
        for task in list(self.pending):
            task.cancel()
        try:
            await self.client.aclose()
        except Exception:
            pass


def _cancelling() -> bool:
    """Whether this task was cancelled while redis-py swallowed the
    cancellation: the task still counts it (`Task.cancelling`)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _raise_if_cancelled() -> None:
    if _cancelling():
        raise asyncio.CancelledError
