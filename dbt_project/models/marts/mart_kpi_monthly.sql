{{ kpi_rollup('month') }}
