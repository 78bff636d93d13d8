"""One long-running child process of the cluster script (a Daphne worker,
HAProxy), started in its own session and stopped by its PID only: SIGTERM,
then SIGKILL after a grace period. Standard library only."""

from __future__ import annotations

import signal
import subprocess


class Child:
    process: subprocess.Popen | None = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
