"""What the preview server tells browsers: the site's version, the pages each build changed,
whether a build is running and the last failure.

The builder thread writes it, the server's event loop reads it; a lock keeps the two apart.
A browser asks with the page it shows and the version that page was served at, and hears
whether that page must reload: only when a later build changed that page's file.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PageState:
    """What one browser tab needs to know now."""

    version: int
    reload: bool
    building: bool
    error: str | None
    stopping: bool
    runnable: bool = False  # a GPU notebook's page: it runs when its run button asks

    def as_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "reload": self.reload,
            "building": self.building,
            "error": self.error,
            "runnable": self.runnable,
        }


class LiveSite:
    """The state of the served site, shared between the builder and the server."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self._lock = threading.Lock()
        self._version = 0
        self._changed_at: dict[str, int] = {}  # site path -> version whose build changed it
        self._building = False
        self._error: str | None = None
        self._stopping = False
        self._runnable: set[str] = set()  # pages whose notebook runs on request only
        self._run_requests: list[str] = []  # of those, the ones asked to run

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    def building(self) -> None:
        with self._lock:
            self._building = True

    def built(self, changed: list[str], runnable: set[str] | None = None) -> list[str]:
        """Record a successful build that changed the HTML pages `changed` (all, the first
        time), which the browsers showing them reload; `runnable`: the pages that offer a
        run button. Clears the failure."""
        with self._lock:
            self._runnable = set(runnable or ())
            self._version += 1
            for path in changed:
                self._changed_at[path] = self._version
            self._building = False
            self._error = None
            return changed

    def failed(self, message: str) -> None:
        """Record a failed build: the pages stay as the last good build left them."""
        with self._lock:
            self._building = False
            self._error = message

    def request_run(self, page: str) -> bool:
        """Ask the builder to run the notebook of `page`; False when it offers no run."""
        with self._lock:
            if page not in self._runnable:
                return False
            if page not in self._run_requests:
                self._run_requests.append(page)
            self._building = True  # the page shows "running…" from now on
            return True

    def take_run_requests(self) -> list[str]:
        with self._lock:
            requests, self._run_requests = self._run_requests, []
            return requests

    def stop(self) -> None:
        with self._lock:
            self._stopping = True

    def state_for(self, page: str, seen: int) -> PageState:
        """The state for a browser showing site path `page`, served at version `seen`."""
        with self._lock:
            return PageState(
                version=self._version,
                reload=self._changed_at.get(page, 0) > seen,
                building=self._building,
                error=self._error,
                stopping=self._stopping,
                runnable=page in self._runnable,
            )

