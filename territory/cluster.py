"""Where the territory jobs run: in this process, a local process pool, or a Dask cluster.

Each territory is planned by one call of a plain function on plain data, so any
``concurrent.futures.Executor`` can run it; the results are collected by territory index, so
the outputs do not depend on where or in which order the jobs ran. ``dask[distributed]`` is an
optional extra (``pip install 'territory[dask]'``), imported only when a scheduler is given.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from .exceptions import TerritoryError

log = logging.getLogger(__name__)

#: Dask's own variable for the scheduler address (config key ``scheduler-address``).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"

#: Seconds to wait for the scheduler before giving up with a clear message.
CONNECT_TIMEOUT_S = 20

#: Address schemes a scheduler on another process or machine can have.
NETWORK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def scheduler_address(given: str | None) -> str | None:
    """The Dask scheduler to use: ``--scheduler``, else ``$DASK_SCHEDULER_ADDRESS``, else None."""
    address = given if given else os.environ.get(SCHEDULER_ENV, "")
    return address.strip() or None


@dataclass(frozen=True)
class Workers:
    """Where jobs run: ``executor`` None means in this process; ``count`` run at once."""

    executor: Executor | None
    count: int
    where: str


@contextmanager
def open_executor(jobs: int, scheduler: str | None = None) -> Iterator[Workers]:
    """The workers for territory jobs, shut down on exit.

    Parameters
    ----------
    jobs
        Local worker processes when no scheduler is given (1: none, run in this process).
    scheduler
        A Dask scheduler address such as ``tcp://10.0.0.5:8786``; the jobs then run on the
        cluster's workers through ``Client.get_executor()`` and ``jobs`` is not used.

    Raises
    ------
    TerritoryError
        Dask is not installed, or the scheduler cannot be reached.
    """
    if scheduler:
        with _dask_executor(scheduler) as workers:
            yield workers
    elif jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            yield Workers(pool, jobs, f"{jobs} local processes")
    else:
        yield Workers(None, 1, "this process")


@contextmanager
def _dask_executor(address: str) -> Iterator[Workers]:
    check_scheduler_address(address)
    from distributed import Client

    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except Exception as exc:  # OSError / TimeoutError: nothing answers at that address
        raise TerritoryError(
            f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {exc}); "
            "start one with `dask scheduler` and give its address as tcp://HOST:PORT"
        ) from None
    try:
        threads = sum(client.nthreads().values())
        log.info("Dask scheduler %s: %d worker threads", address, threads)
        # pure=False: every job runs (no key hashing of the territory data)
        with client.get_executor(pure=False) as ex:
            yield Workers(ex, max(1, threads), f"the Dask cluster at {address}")
    finally:
        client.close()


def check_scheduler_address(address: str) -> None:
    """Refuse a scheduler address that cannot work, before any file is read or Client made.

    (A Client that fails half-way through its constructor hangs for 40 s at exit.)

    Raises
    ------
    TerritoryError
        Dask is not installed, or the address is malformed or not a network address.
    """
    try:
        from distributed.comm.addressing import parse_address, parse_host_port
    except ImportError:
        raise TerritoryError(
            f"--scheduler {address} needs Dask; install it with: pip install 'territory[dask]'"
        ) from None

    try:
        scheme, location = parse_address(address)
        parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise TerritoryError(
            f"--scheduler '{address}' is not a scheduler address ({exc}); use tcp://HOST:PORT, "
            "e.g. tcp://10.0.0.5:8786"
        ) from None
    if scheme not in NETWORK_SCHEMES:
        raise TerritoryError(
            f"--scheduler '{address}': scheme '{scheme}' cannot reach a scheduler in another "
            f"process; use one of {', '.join(s + '://' for s in NETWORK_SCHEMES)}"
        )
