"""``LandingFileTrigger``: a non-destructive event trigger on a source's landing folder.

Used in an ``AssetWatcher`` on the ``landing_<source>`` asset, it runs in the triggerer
and polls ``landing/<source>/<YYYY-MM-DD>/`` for files that the ingest ledger has not
accepted (``pipelines.orchestration.landing.pending_files``). When new files have settled
(same size and modification time on two consecutive polls, so a file still being copied
is not announced), it yields one ``TriggerEvent`` whose payload names the source, the
landing days and the files; Airflow turns it into an asset event
(``extra={"from_trigger": True, "payload": ...}``) that starts ``ingest_<source>``.

It never deletes, moves or writes anything: the built-in ``FileDeleteTrigger`` and
``DirectoryFileDeleteTrigger`` delete the file they watch, which must never happen to a
delivered export. Each version of a file is announced once per triggerer process; after a
triggerer restart, files still not ingested are announced again, which is harmless
because ingestion is idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

CLASSPATH = "pipelines.orchestration.triggers.LandingFileTrigger"


class LandingFileTrigger(BaseEventTrigger):
    """Fire when unseen files settle in ``landing/<source>/``; never touches them."""

    def __init__(
        self,
        *,
        source: str,
        poll_interval: float = 5.0,
        data_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.poll_interval = float(poll_interval)
        # None: resolved in the triggerer from ATTRIBUTION_DATA_DIR / attribution.yml,
        # so the serialized DAG does not depend on the parsing machine's paths.
        self.data_dir = data_dir

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {"source": self.source, "poll_interval": self.poll_interval, "data_dir": self.data_dir},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from pipelines.config import load_settings
        from pipelines.orchestration.landing import pending_files

        settings = load_settings(data_dir=self.data_dir)
        landing, ledger = settings.paths.landing, settings.paths.ledger
        self.log.info("Watching %s for new %s files", landing / self.source, self.source)
        hash_cache: dict[tuple[str, int, int], str] = {}
        previous: set[tuple[str, int, int]] = set()
        announced: set[tuple[str, int, int]] = set()
        while True:
            try:
                pending = await asyncio.to_thread(
                    pending_files, landing, ledger, self.source, hash_cache
                )
            except Exception:  # a transient read error must not stop the watcher
                self.log.exception("Polling %s failed; retrying", landing / self.source)
                pending = []
            stamps = {f.stamp for f in pending}
            settled = [f for f in pending if f.stamp in previous and f.stamp not in announced]
            previous = stamps
            # Forget what was ingested or moved away; keep memory bounded.
            announced &= stamps
            for key in [k for k in hash_cache if k not in stamps]:
                del hash_cache[key]
            if settled:
                announced.update(f.stamp for f in settled)
                payload = {
                    "source": self.source,
                    "dates": sorted({f.day.isoformat() for f in settled}),
                    "files": [f.rel for f in settled],
                }
                self.log.info("New %s files: %s", self.source, payload["files"])
                yield TriggerEvent(payload)
            await asyncio.sleep(self.poll_interval)
