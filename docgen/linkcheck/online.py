"""The online part of `docgen check --external`: requesting http(s) links, politely.

`check_url` asks one URL (HEAD, then GET if refused; redirects followed; Retry-After and
rate-limit headers obeyed, within `HttpOptions.max_wait`); `check_urls` asks many, at most
`workers` at once and `per_host` per host; `check_urls_cached` skips the URLs whose success
the JSON cache remembers, and remembers the new ones.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urljoin, urlsplit

from docgen import __version__
from docgen.words import counted

__all__ = [
    "HttpOptions",
    "HttpResult",
    "check_url",
    "check_urls",
    "check_urls_cached",
    "load_cache",
    "save_cache",
]


@dataclass(frozen=True)
class HttpOptions:
    """How `--external` requests links."""

    timeout: float = 10.0  # seconds, per request
    workers: int = 8  # requests at once, in all
    per_host: int = 2  # requests at once, per host
    max_redirects: int = 10
    max_wait: float = 60.0  # seconds of Retry-After / back-off one URL may wait in all
    retries: int = 5  # attempts after a 429 (or rate-limit 403) before giving up
    cache: Path | None = Path(".docgen_cache/linkcheck.json")
    cache_age: float = 24.0  # hours a cached success stays valid
    # Some sites refuse clients that don't say they are a browser.
    user_agent: str = f"Mozilla/5.0 (compatible; docgen-linkcheck/{__version__})"


class HttpResult(NamedTuple):
    status: str  # working | redirected | broken
    code: int
    info: str
    kind: str = ""


class _HostGate:
    """When each host may be asked again, after one of its answers said 'slow down'."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.not_before: dict[str, float] = {}

    def delay(self, host: str) -> float:
        with self.lock:
            return max(0.0, self.not_before.get(host, 0.0) - time.monotonic())

    def hold(self, host: str, seconds: float) -> None:
        with self.lock:
            until = time.monotonic() + seconds
            self.not_before[host] = max(until, self.not_before.get(host, 0.0))


def _request(method: str, url: str, options: HttpOptions) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    host = (parts.hostname or "").encode("idna").decode("ascii")
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(host, parts.port, timeout=options.timeout)
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
    if parts.query:
        target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~?")
    try:
        conn.request(method, target, headers={"User-Agent": options.user_agent, "Accept": "*/*"})
        response = conn.getresponse()
    finally:
        conn.close()  # the response keeps what it read; we never need the body
    return response


def _is_rate_limit(code: int, headers: http.client.HTTPMessage) -> bool:
    if code == 429:
        return True
    if code in (403, 503):
        return headers.get("X-RateLimit-Remaining", "").strip() == "0" or ("Retry-After" in headers)
    return False


def _retry_after(headers: http.client.HTTPMessage) -> float | None:
    value = (headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    if reset.isdigit():
        return max(0.0, float(reset) - time.time())
    return None


def check_url(url: str, options: HttpOptions, gate: _HostGate | None = None) -> HttpResult:
    """Request `url` (no fragment): HEAD, then GET if HEAD is refused; follow redirects;
    wait and retry on rate limits, at most `options.max_wait` seconds in all."""
    gate = gate or _HostGate()
    method, current, hops, first_code, waited, attempts = "HEAD", url, 0, 0, 0.0, 0
    while True:
        host = urlsplit(current).netloc.lower()
        pause = gate.delay(host)
        if pause:
            if waited + pause > options.max_wait:
                return HttpResult("broken", 429, f"{host} asks to wait {pause:.0f} s", "rate-limit")
            time.sleep(pause)
            waited += pause
        try:
            response = _request(method, current, options)
        except TimeoutError:
            return HttpResult("broken", 0, f"timed out after {options.timeout:g} s", "timeout")
        except ConnectionResetError as e:
            if method == "HEAD":
                method = "GET"
                continue
            return HttpResult("broken", 0, f"connection reset ({e})", "connection")
        except (OSError, http.client.HTTPException, UnicodeError, ValueError) as e:
            return HttpResult("broken", 0, f"{type(e).__name__}: {e}", "connection")
        code, headers = response.status, response.headers
        if method == "HEAD" and code in (405, 403, 501) and not _is_rate_limit(code, headers):
            method = "GET"
            continue
        if code in (301, 302, 303, 307, 308) and headers.get("Location"):
            hops += 1
            first_code = first_code or code
            if hops > options.max_redirects:
                return HttpResult(
                    "broken", code, f"more than {options.max_redirects} redirects", "redirects"
                )
            current = urljoin(current, headers["Location"]).partition("#")[0]
            continue
        if _is_rate_limit(code, headers):
            attempts += 1
            delay = _retry_after(headers)
            delay = min(2.0 ** (attempts - 1), 60.0) if delay is None else delay
            limited = f"rate limited ({code} {response.reason})"
            if waited + delay > options.max_wait:
                return HttpResult(
                    "broken",
                    code,
                    f"{limited}: asked to wait {delay:.0f} s, "
                    f"over the {options.max_wait:g} s limit",
                    "rate-limit",
                )
            if attempts > options.retries:
                return HttpResult(
                    "broken",
                    code,
                    f"{limited}: still after {options.retries} retries over {waited:.0f} s",
                    "rate-limit",
                )
            gate.hold(host, delay)
            continue
        if 200 <= code < 300:
            if hops:
                return HttpResult("redirected", first_code, current)
            return HttpResult("working", code, "")
        return HttpResult("broken", code, f"{code} {response.reason}", "http-error")


def check_urls(urls: Iterable[str], options: HttpOptions) -> dict[str, HttpResult]:
    """`check_url` each URL, at most `options.workers` at once and `per_host` per host."""
    queues: dict[str, deque[str]] = defaultdict(deque)
    for url in dict.fromkeys(urls):
        queues[urlsplit(url).netloc.lower()].append(url)
    gate = _HostGate()
    busy: Counter[str] = Counter()
    running: dict[Future[HttpResult], tuple[str, str]] = {}
    results: dict[str, HttpResult] = {}
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        while queues or running:
            for host in list(queues):
                queue = queues[host]
                while queue and busy[host] < options.per_host and len(running) < options.workers:
                    url = queue.popleft()
                    running[pool.submit(check_url, url, options, gate)] = (host, url)
                    busy[host] += 1
                if not queue:
                    del queues[host]
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                host, url = running.pop(future)
                busy[host] -= 1
                results[url] = future.result()
    return results


def load_cache(path: Path, max_age_hours: float) -> tuple[dict[str, dict], list[str]]:
    """Successes checked less than `max_age_hours` ago, by URL; and warnings."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["entries"]
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError, KeyError, TypeError) as e:
        return {}, [f"link cache {path} can't be read ({e}); checking every link again"]
    oldest = time.time() - max_age_hours * 3600
    fresh = {}
    for url, entry in entries.items() if isinstance(entries, dict) else ():
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("checked"), int | float)
            and entry["checked"] >= oldest
            and entry.get("status") in ("working", "redirected")
            and isinstance(entry.get("code"), int)
            and isinstance(entry.get("info"), str)
        ):
            fresh[url] = entry
    return fresh, []


def save_cache(path: Path, entries: Mapping[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        json.dumps({"version": 1, "entries": dict(sorted(entries.items()))}, indent=1),
        encoding="utf-8",
    )
    os.replace(tmp, path)


def check_urls_cached(
    urls: Iterable[str], options: HttpOptions, log: Callable[[str], None] | None = None
) -> tuple[dict[str, HttpResult], list[str]]:
    """`check_urls`, but only for the URLs without a recent success in `options.cache`;
    the answers by URL (cached ones included), and warnings about the cache."""
    wanted = set(urls)
    cached: dict[str, dict] = {}
    warnings: list[str] = []
    if options.cache:
        cached, warnings = load_cache(options.cache, options.cache_age)
    todo = sorted(wanted - cached.keys())
    if log and todo:
        log(f"checking {counted(len(todo), 'external link')} ({len(wanted) - len(todo)} cached)")
    fetched = check_urls(todo, options)
    answers = {u: HttpResult(e["status"], e["code"], e["info"]) for u, e in cached.items()}
    answers.update(fetched)
    now = time.time()
    fresh = {
        u: {"checked": now, "status": a.status, "code": a.code, "info": a.info}
        for u, a in fetched.items()
        if a.status in ("working", "redirected")
    }
    if options.cache and fresh:
        save_cache(options.cache, {**cached, **fresh})
    return answers, warnings
