"""Support for the test suite and the benchmarks (not imported by the
application): child processes (Daphne, Redis, Pushpin) and an SSE client."""

from testsupport.processes import (  # noqa: F401
    BASE_DIR,
    DaphneServer,
    PushpinServer,
    RedisServer,
    database_url,
    free_port,
    pushpin_installed,
    redis_reachable,
    redis_server_installed,
    require_service,
    server_env,
    services_required,
    spawn,
)
from testsupport.sse import SSEMessage, SSEStream, StreamEnded  # noqa: F401
