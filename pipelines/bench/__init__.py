"""The benchmark (``attribution bench``): the pipeline against the floor and the alternatives.

- :mod:`~pipelines.bench.harness`: ``run_bench`` (per size: synthetic data, timed stages,
  peak memory, incremental day) and the JSON report.
- :mod:`~pipelines.bench.floor`: DuckDB reading the raw event files once, grouped by person.
- :mod:`~pipelines.bench.pandas_alternative`: last touch and linear written plainly in pandas.
- :mod:`~pipelines.bench.peer`: ChannelAttribution's ``markov_model`` on the same paths.
- :mod:`~pipelines.bench.report`: ``format_bench_table``.

The benchmark is a command, never a test: the tests run it at a tiny size and check the
shape and honesty of its output, not its timings.
"""

from pipelines.bench.harness import bench_size, run_bench, write_results
from pipelines.bench.report import format_bench_table

__all__ = ["bench_size", "format_bench_table", "run_bench", "write_results"]
