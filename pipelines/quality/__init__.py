"""The quality gate: Great Expectations suites as code, reconciliation checks, the gate.

Modules (none imports Great Expectations at module top except ``expectations`` and
``suites``, which only the gate imports, inside ``run_gate``):

- ``warehouse_tables``: the published marts (from the dbt manifest), their fixed columns
  and grains, the warehouse fingerprint and the build record.
- ``frames``: DuckDB queries turning the lake and the warehouse into the frames the
  suites validate (lake partitions, freshness, volume, currency rates, reconciliations).
- ``expectations``: small custom expectation classes for the project's rules.
- ``suites``: the expectation suites, built in Python from typed expectation classes.
- ``result``: ``GateResult`` / ``Failure`` and reading/writing ``state/gate.json``.
- ``publication_log``: the working copy of the publication log (``state/``).
- ``gate``: ``run_gate`` and ``format_gate_summary``.
"""
