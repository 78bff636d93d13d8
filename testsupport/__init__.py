"""Support for the test suite and the benchmarks (not imported by the
application): child processes (Daphne, Redis, Pushpin) and an SSE client."""

from testsupport.processes import (  # noqa: F401
    BASE_DIR,
    DaphneServer,
    HeldPort,
    PushpinServer,
    RedisServer,
    database_url,
    hold_port,
    hold_ports_in_a_row,
    pushpin_installed,
    redis_reachable,
    redis_server_installed,
    require_service,
    server_env,
    services_required,
    spawn,
)
from testsupport.sse import SSEMessage, SSEStream, StreamEnded  # noqa: F401
