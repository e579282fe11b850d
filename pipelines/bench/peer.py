"""The peer: the ChannelAttribution package's ``markov_model`` on the same path data.

ChannelAttribution (PyPI ``channelattribution``, imported as ``ChannelAttribution``) is
optional and not in the lock: its import needs matplotlib, which the project does not
install. The comparison runs when it is importable here, or when
``ATTRIBUTION_BENCH_PEER_PYTHON`` names another interpreter that has it (the paths go to
that interpreter as CSV; its own time around ``markov_model`` is reported). Otherwise the
benchmark records ``peer: null`` with a note saying why.

Both sides see the same distinct transformed paths (the journeys' ``PathSet``), so the
chains are the same; ChannelAttribution estimates removal effects by simulation, ours
solves the absorbing chain exactly. Compared: the time of each, and the largest absolute
difference of the conversion removal effects per channel. (ChannelAttribution's value
removal effects weigh value differently from ours, so they are not compared.)
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.attribution.markov import markov_attribution
from pipelines.attribution.paths import PathSet

PEER_PYTHON_ENV = "ATTRIBUTION_BENCH_PEER_PYTHON"
PEER_PACKAGE = "channelattribution"

_WORKER = """
import json, sys, time
from importlib import metadata
import pandas as pd
import ChannelAttribution as ca
df = pd.read_csv(sys.argv[1])
started = time.perf_counter()
out = ca.markov_model(df, "path", "conv", var_value="value", var_null="nulls", out_more=True,
                      verbose=False, flg_pro=False)
seconds = time.perf_counter() - started
re = out["removal_effects"]
json.dump({"seconds": seconds, "version": metadata.version("ChannelAttribution"),
           "removal_effects": dict(zip(re["channel_name"].astype(str),
                                       re["removal_effects_conversion"].astype(float)))},
          open(sys.argv[2], "w"))
"""


def path_frame(pathset: PathSet) -> pd.DataFrame:
    """``path`` ("A > B"), ``conv``, ``value``, ``nulls`` per distinct path."""
    labels = [pathset.token_labels[t] for t in pathset.tokens.tolist()]
    offsets = pathset.offsets.tolist()
    paths = [" > ".join(labels[offsets[p] : offsets[p + 1]]) for p in range(pathset.n_paths)]
    return pd.DataFrame(
        {
            "path": paths,
            "conv": pathset.conversions,
            "value": pathset.value,
            "nulls": pathset.nulls,
        }
    )


def _in_process(frame: pd.DataFrame) -> dict[str, Any]:
    import ChannelAttribution as ca

    started = time.perf_counter()
    out = ca.markov_model(
        frame,
        "path",
        "conv",
        var_value="value",
        var_null="nulls",
        out_more=True,
        verbose=False,
        flg_pro=False,
    )
    seconds = time.perf_counter() - started
    re = out["removal_effects"]
    return {
        "seconds": seconds,
        "version": metadata.version(PEER_PACKAGE),
        "removal_effects": dict(
            zip(
                re["channel_name"].astype(str),
                re["removal_effects_conversion"].astype(float),
                strict=True,
            )
        ),
        "how": "in-process",
    }


def _subprocess(python: str, frame: pd.DataFrame) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        paths, result = Path(tmp) / "paths.csv", Path(tmp) / "result.json"
        frame.to_csv(paths, index=False)
        proc = subprocess.run(
            [python, "-c", _WORKER, str(paths), str(result)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"{python} could not run ChannelAttribution: {tail[0]}")
        out = json.loads(result.read_text(encoding="utf-8"))
    out["how"] = f"subprocess ({python})"
    return out


def compare_peer(pathset: PathSet, order: int = 1) -> tuple[dict[str, Any] | None, str]:
    """``(peer, note)``: the comparison (or ``None``) and a sentence on how it was made."""
    frame = path_frame(pathset)
    try:
        import ChannelAttribution  # ruff: ignore[unused-import]

        importable = True
    except ImportError:
        importable = False
    python = os.environ.get(PEER_PYTHON_ENV)
    try:
        if importable:
            peer = _in_process(frame)
        elif python:
            peer = _subprocess(python, frame)
        else:
            return None, (
                f"{PEER_PACKAGE} is not importable here (optional, not in the lock; its import "
                f"needs matplotlib); set {PEER_PYTHON_ENV} to a Python that has it to compare."
            )
    except Exception as exc:  # the peer is optional: record why it did not run
        return None, f"{PEER_PACKAGE} failed: {type(exc).__name__}: {exc}"
    started = time.perf_counter()
    ours = markov_attribution(pathset, order)
    our_seconds = time.perf_counter() - started
    ours_re = dict(zip(ours.channels, ours.removal_effect.tolist(), strict=True))
    theirs = peer["removal_effects"]
    common = sorted(set(ours_re) & set(theirs))
    diffs = [abs(ours_re[c] - theirs[c]) for c in common]
    result = {
        "package": PEER_PACKAGE,
        "version": peer.get("version"),
        "how": peer["how"],
        "paths": int(pathset.n_paths),
        "order": order,
        "peer_seconds": round(float(peer["seconds"]), 4),
        "our_seconds": round(our_seconds, 4),
        "time_ratio": round(float(peer["seconds"]) / our_seconds, 2) if our_seconds > 0 else None,
        "max_abs_removal_effect_diff": float(np.max(diffs)) if diffs else None,
        "channels_compared": len(common),
        "channels_only_ours": sorted(set(ours_re) - set(theirs)),
        "channels_only_peer": sorted(set(theirs) - set(ours_re)),
    }
    note = (
        "ChannelAttribution markov_model (simulation) vs our exact absorbing chain on the same "
        "distinct transformed paths; time_ratio = peer / ours."
    )
    return result, note
