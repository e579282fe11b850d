# Airflow 3.3.2 with the attribution pipeline installed (used by docker-compose.yml).
# The dependencies come from uv.lock, so the image runs exactly what the tests ran; the
# project itself is installed editable at /opt/attribution, where compose mounts the
# working copy (dags/, pipelines/, dbt_project/, attribution.yml) for development.
FROM apache/airflow:3.3.2-python3.11

USER airflow
WORKDIR /opt/attribution
COPY --chown=airflow:root pyproject.toml uv.lock README.md ./
RUN pip install --no-cache-dir "uv==0.13.9" \
    && uv export --frozen --no-dev --no-hashes --no-emit-project -o /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY --chown=airflow:root pipelines ./pipelines
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root dbt_project ./dbt_project
COPY --chown=airflow:root attribution.yml ./
RUN pip install --no-cache-dir --no-deps -e /opt/attribution
ENV ATTRIBUTION_DATA_DIR=/data \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/attribution/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False
