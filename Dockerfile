# One image for every ELV service in docker-compose.yml: the user-code gRPC server (the default command),
# the Dagster webserver and daemon, and the Streamlit dashboard (each service sets its own command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/home \
    ELV_DATA_DIR=/opt/dagster/app/data/raw \
    ELV_WAREHOUSE=/opt/dagster/app/data/warehouse.duckdb \
    ELV_SERVING_DIR=/opt/dagster/app/data/serving \
    ELV_ARTIFACTS_DIR=/opt/dagster/app/data/artifacts

# LightGBM and XGBoost wheels load the system's OpenMP runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/dagster/app

# Dependencies first (cached while only code changes), then the package itself.
COPY pyproject.toml README.md ./
COPY elv_assets ./elv_assets
RUN pip install .

COPY dashboard ./dashboard
COPY deploy ./deploy
COPY workspace.yaml dagster.yaml ./
COPY .streamlit ./.streamlit

# A non-root user owns the data folder and the instance folder. Named volumes mounted on them start as
# copies of these folders, so they start owned by this user too.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/elv elv \
    && mkdir -p "$DAGSTER_HOME/storage" "$ELV_DATA_DIR" /opt/dagster/app/data/serving /opt/dagster/app/data/artifacts \
    && cp deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R elv:elv /opt/dagster/home /opt/dagster/app/data

USER elv

EXPOSE 3000 4000 8501

CMD ["dagster", "api", "grpc", "-m", "elv_assets.definitions", "-h", "0.0.0.0", "-p", "4000"]
