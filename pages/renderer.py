"""One long-lived static-image renderer (kaleido 1.x + headless Chromium) per process.

kaleido's own `start_sync_server()` keeps a browser open, but its blocking call has no timeout
and hands results back through one shared queue, so two threads calling it at once can receive
each other's images. This module runs a `kaleido.Kaleido` on an event loop in a daemon thread of
its own and submits each image to it with `asyncio.run_coroutine_threadsafe`, which gives:

- lazy start: nothing happens at import; the browser starts on the first `render()`;
- thread safety: any number of threads (gunicorn threads, Dash callbacks) may call `render()`;
  at most `tabs` images render at a time, the rest wait up to `queue_timeout` seconds;
- a timeout per image: a render that takes longer than `timeout` seconds, or a browser that
  died, raises `RenderError`; the browser is killed and a fresh one starts on the next use;
- bounded images: width, height, scale and total pixels are checked before anything renders
  (`ImageSizeError`, a `ValueError`).

The browser is Debian's /usr/bin/chromium (kaleido finds it, or $BROWSER_PATH); nothing is ever
downloaded. MathJax is off (it would come from a CDN) and plotly.js is the one of plotly.py.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

Format = Literal["png", "svg"]
FORMATS: tuple[str, ...] = ("png", "svg")

MIN_SIDE = 50  # px, layout size
MAX_SIDE = 4096  # px, layout size (before scale)
MAX_SCALE = 4.0
MAX_OUTPUT_PIXELS = 5000 * 5000  # width * height * scale**2

DEFAULT_TIMEOUT = float(os.environ.get("SKILLNADER_RENDER_TIMEOUT", "30"))
DEFAULT_TABS = int(os.environ.get("SKILLNADER_RENDER_TABS", "1"))  # images rendered at once
START_TIMEOUT = 60.0
QUEUE_TIMEOUT = 60.0


class RenderError(RuntimeError):
    """The image could not be rendered (timeout, crashed browser, plotly.js error, busy)."""


class ImageSizeError(ValueError):
    """Width, height or scale outside the allowed bounds; raised before rendering."""


def check_size(width: int, height: int, scale: float) -> None:
    """Raise ImageSizeError unless the requested image is within the limits."""
    for name, side in (("width", width), ("height", height)):
        if isinstance(side, bool) or not isinstance(side, int):
            raise ImageSizeError(f"{name} must be a whole number of pixels, got {side!r}")
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ImageSizeError(
                f"{name} {side} px is outside the allowed {MIN_SIDE}-{MAX_SIDE} px"
            )
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not (
        0 < scale <= MAX_SCALE
    ):
        raise ImageSizeError(f"scale must be a number in (0, {MAX_SCALE}], got {scale!r}")
    pixels = width * height * scale * scale
    if pixels > MAX_OUTPUT_PIXELS:
        raise ImageSizeError(
            f"{width}x{height} px at scale {scale} is {pixels / 1e6:.1f} megapixels; "
            f"the limit is {MAX_OUTPUT_PIXELS / 1e6:.0f}"
        )


def _quiet_library_logs() -> None:
    """kaleido and choreographer log every tab move at INFO; keep them at WARNING unless the
    application configured them itself."""
    for name in ("kaleido", "choreographer", "browser_proc", "chrome_wrapper"):
        lg = logging.getLogger(name)
        if lg.level == logging.NOTSET:
            lg.setLevel(logging.WARNING)


@dataclass
class _Session:
    """One running browser: its event loop, thread, kaleido and the renders in flight."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    kaleido: Any
    generation: int
    pending: set[concurrent.futures.Future] = field(default_factory=set)

    def alive(self) -> bool:
        proc = getattr(self.kaleido, "subprocess", None)
        return (
            self.thread.is_alive()
            and not self.loop.is_closed()
            and proc is not None
            and proc.poll() is None
        )

    def browser_pid(self) -> int | None:
        proc = getattr(self.kaleido, "subprocess", None)
        return proc.pid if proc is not None else None


class Renderer:
    """A lazily started kaleido browser shared by all threads of the process."""

    def __init__(
        self,
        *,
        tabs: int = DEFAULT_TABS,
        timeout: float = DEFAULT_TIMEOUT,
        start_timeout: float = START_TIMEOUT,
        queue_timeout: float = QUEUE_TIMEOUT,
        browser_path: str | None = None,
    ) -> None:
        if tabs < 1:
            raise ValueError("tabs must be at least 1")
        self.tabs = tabs
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.queue_timeout = queue_timeout
        self.browser_path = browser_path or os.environ.get("BROWSER_PATH") or None
        self._lock = threading.Lock()  # guards _session / _generation
        self._slots = threading.BoundedSemaphore(tabs)
        self._session: _Session | None = None
        self._generation = 0
        self._pid = os.getpid()
        self.starts = 0  # browsers started so far (for tests and monitoring)
        self.last_start_seconds: float | None = None

    # ------------------------------------------------------------------ lifecycle

    def _start(self) -> _Session:
        """Start a loop thread and a browser on it (called with the lock held)."""
        import kaleido  # imported here: no browser machinery is touched at import time

        _quiet_library_logs()
        t0 = time.perf_counter()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=loop.run_forever, name=f"kaleido-loop-{self._generation + 1}", daemon=True
        )
        thread.start()

        async def _open() -> Any:
            kwargs: dict[str, Any] = {"n": self.tabs, "timeout": None, "mathjax": False}
            if self.browser_path:
                kwargs["path"] = self.browser_path
            k = kaleido.Kaleido(**kwargs)
            await k.open()
            return k

        fut = asyncio.run_coroutine_threadsafe(_open(), loop)
        try:
            k = fut.result(self.start_timeout)
        except BaseException as exc:
            fut.cancel()
            _stop_loop(loop, thread)
            if isinstance(exc, concurrent.futures.TimeoutError):
                raise RenderError(
                    f"the image renderer did not start within {self.start_timeout:.0f} s"
                ) from None
            raise RenderError(f"the image renderer could not start: {exc}") from exc
        self._generation += 1
        self.starts += 1
        self.last_start_seconds = time.perf_counter() - t0
        if self.starts == 1:
            atexit.register(self.shutdown)
        log.info("image renderer started in %.1f s (browser pid %s)",
                 self.last_start_seconds, getattr(k.subprocess, "pid", "?"))
        return _Session(loop=loop, thread=thread, kaleido=k, generation=self._generation)

    def _current(self) -> _Session:
        """The running session, started or restarted when there is none or it died."""
        with self._lock:
            if os.getpid() != self._pid:  # forked (gunicorn --preload): the parent's browser
                self._pid = os.getpid()  # is not ours; forget it without touching it
                self._session = None
            s = self._session
            if s is not None and not s.alive():
                log.warning("image renderer (browser pid %s) is gone; restarting",
                            s.browser_pid())
                self._session = None
                _teardown_async(s)
                s = None
            if s is None:
                s = self._session = self._start()
            return s

    def _discard(self, session: _Session, reason: str) -> None:
        """Kill a session's browser unless a newer one already replaced it."""
        with self._lock:
            if self._session is session:
                log.warning("image renderer restarted on next use: %s", reason)
                self._session = None
            else:
                return
        _teardown_async(session)

    def restart(self) -> None:
        with self._lock:
            s, self._session = self._session, None
        if s is not None:
            _teardown(s)

    def shutdown(self) -> None:
        """Close the browser (it starts again on the next render)."""
        with self._lock:
            s, self._session = self._session, None
        if s is not None and os.getpid() == self._pid:
            _teardown(s)

    def browser_pid(self) -> int | None:
        """Process id of the running browser's process group leader (None if not running)."""
        s = self._session
        return s.browser_pid() if s is not None else None

    def is_running(self) -> bool:
        s = self._session
        return s is not None and s.alive()

    # ------------------------------------------------------------------ rendering

    def render(
        self,
        fig: Any,
        fmt: Format = "png",
        width: int = 1200,
        height: int = 675,
        scale: float = 1.0,
    ) -> bytes:
        """The figure as PNG or SVG bytes; raises ImageSizeError or RenderError."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        check_size(width, height, scale)
        spec = fig.to_dict() if hasattr(fig, "to_dict") else fig
        if not isinstance(spec, dict) or "data" not in spec:
            raise TypeError("fig must be a plotly Figure or a figure dict")
        opts = {"format": fmt, "width": width, "height": height, "scale": scale}

        if not self._slots.acquire(timeout=self.queue_timeout):
            raise RenderError(f"the image renderer is busy (waited {self.queue_timeout:.0f} s)")
        try:
            session = self._current()
            fut = asyncio.run_coroutine_threadsafe(
                session.kaleido.calc_fig(spec, opts=opts), session.loop
            )
            session.pending.add(fut)
            try:
                return fut.result(self.timeout)
            except concurrent.futures.TimeoutError:
                fut.cancel()
                self._discard(session, f"render exceeded {self.timeout:g} s")
                raise RenderError(
                    f"rendering took longer than {self.timeout:g} s and was stopped"
                ) from None
            except concurrent.futures.CancelledError:
                raise RenderError("the image renderer was restarted during the render") from None
            except Exception as exc:
                if not session.alive():
                    self._discard(session, f"browser died: {exc!r}")
                    raise RenderError(f"the image renderer crashed: {exc}") from exc
                raise RenderError(f"the figure could not be rendered: {exc}") from exc
            finally:
                session.pending.discard(fut)
        finally:
            self._slots.release()


# ---------------------------------------------------------------------- teardown helpers


async def _cancel_other_tasks() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=3)


def _stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Cancel what still runs on the loop (choreographer's watchdog), then stop and close it."""
    if thread.is_alive() and not loop.is_closed():
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_cancel_other_tasks(), loop).result(5)
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    if not thread.is_alive():
        with contextlib.suppress(RuntimeError):
            loop.close()


def _kill_browser(session: _Session) -> None:
    proc = getattr(session.kaleido, "subprocess", None)
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the wrapper leads the browser's process group
    with contextlib.suppress(Exception):
        proc.wait(5)


def _teardown(session: _Session) -> None:
    """Cancel renders in flight, close (or kill) the browser, stop the loop thread."""
    for fut in list(session.pending):
        fut.cancel()
    if session.alive():
        try:
            asyncio.run_coroutine_threadsafe(session.kaleido.close(), session.loop).result(10)
        except Exception as exc:  # a hung browser: kill it
            log.warning("image renderer did not close cleanly (%r); killing it", exc)
    _kill_browser(session)
    if session.thread.is_alive() and not session.loop.is_closed():
        # let choreographer clean its temporary profile directory, then stop the loop
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(session.kaleido.close(), session.loop).result(5)
        _stop_loop(session.loop, session.thread)


def _teardown_async(session: _Session) -> None:
    """Kill now (so the caller can fail fast), clean up in the background."""
    for fut in list(session.pending):
        fut.cancel()
    _kill_browser(session)
    threading.Thread(target=_teardown, args=(session,), name="kaleido-teardown",
                     daemon=True).start()


# ---------------------------------------------------------------------- module-level API

_DEFAULT: Renderer | None = None
_DEFAULT_LOCK = threading.Lock()


def get_renderer() -> Renderer:
    """The process's renderer (created on first use; the browser starts on first render)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Renderer()
        return _DEFAULT


def render(
    fig: Any, fmt: Format = "png", width: int = 1200, height: int = 675, scale: float = 1.0
) -> bytes:
    """Render with the shared renderer: PNG or SVG bytes of `fig` at width x height (x scale)."""
    return get_renderer().render(fig, fmt, width, height, scale)


def shutdown() -> None:
    """Close the shared renderer's browser if one is running."""
    with _DEFAULT_LOCK:
        r = _DEFAULT
    if r is not None:
        r.shutdown()
