"""Synthetic landing data with known ground truth.

``generate(out_dir, start, days, seed, people, sources)`` simulates people whose journeys
cross channels (paid search and social, native, affiliates, e-mail, organic, referral,
direct; some on two devices, some with the app), renders every source's real file format
through that source's own ``write()`` into ``landing/<source>/<day>/``, and returns a
``SynthResult`` whose ``truth`` holds what a correct pipeline must find: spend per
platform and day (after the restated re-delivery, in account and reporting currency),
conversions per type and day, revenue, the causal lift of each channel, people and
devices, true journeys and rates.

Modules: ``world`` (the static accounts, campaigns, channels and lifts), ``journeys``
(the vectorised simulation), ``events``, ``delivery``, ``affiliates``, ``fx`` (renderers
of canonical rows), ``truth``, ``generator``.
"""

from pipelines.synth.generator import SYNTH_SOURCES, SynthResult, generate, synth_command
from pipelines.synth.truth import Truth

__all__ = ["SYNTH_SOURCES", "SynthResult", "Truth", "generate", "synth_command"]
