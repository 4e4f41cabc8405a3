"""Run a function in a forked child process and collect its (pickled) result later.

Used to compute strategy signals for part of the whitelist while the parent process warms up
the compiled kernel and computes the rest: the child inherits the loaded strategy and modules
through ``fork`` (no pickling of inputs), and only returns plain frames. Platforms without
``fork`` fall back to running the function in-process.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from collections.abc import Callable
from typing import Any

from atb.errors import AtbError

__all__ = ["fork_available", "run_forked"]


def fork_available() -> bool:
    """Whether work can be forked (POSIX ``fork`` and at least 2 CPUs)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and sys.platform != "darwin"


def run_forked(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Start ``fn`` in a forked child; returns ``join()`` which returns its result.

    Exceptions raised by ``fn`` are re-raised by ``join()`` (atb errors keep their type and
    message). ``join()`` must be called exactly once.
    """
    if not fork_available():
        value = fn()
        return lambda: value
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(read_fd)
            try:
                payload = pickle.dumps(("ok", fn()), protocol=pickle.HIGHEST_PROTOCOL)
            except AtbError as exc:
                payload = pickle.dumps(("atb", exc))
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                payload = pickle.dumps(("err", f"{type(exc).__name__}: {exc}",
                                        traceback.format_exc()))
            with os.fdopen(write_fd, "wb") as fh:
                fh.write(payload)
        except BaseException:  # noqa: BLE001 - never return into the parent's code
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)

    def join() -> Any:
        with os.fdopen(read_fd, "rb") as fh:
            data = fh.read()
        os.waitpid(pid, 0)
        if not data:
            raise AtbError("a backtest worker process died without a result")
        status, *rest = pickle.loads(data)  # noqa: S301 - our own child process
        if status == "ok":
            return rest[0]
        if status == "atb":
            raise rest[0]
        raise AtbError(f"backtest worker failed: {rest[0]}")

    return join
