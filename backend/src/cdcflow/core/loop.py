"""A small loop service: run_once() every `interval` seconds in a daemon thread, errors logged, clean stop."""

import logging
import threading

logger = logging.getLogger(__name__)


class LoopService:
    name = "loop"
    interval: float = 5.0
    run_first: bool = False   # run once right away, or wait one interval first

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        if not self.run_first and self._stop.wait(self.interval):
            return
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001  (the loop outlives any one failure)
                logger.warning("%s pass failed: %s", self.name, exc)
            self._stop.wait(self.interval)
