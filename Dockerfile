# Slim, non-root image of the API (also used by the Celery worker and beat services).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 MODEL_DIR=/data/models
WORKDIR /srv
COPY requirements.txt .
RUN pip install -r requirements.txt \
    && useradd --create-home --uid 10001 smartshelf \
    && mkdir -p /data/models && chown -R smartshelf /data
COPY app ./app
USER smartshelf
EXPOSE 8000
CMD ["sh", "-c", "uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000 --workers ${WORKERS:-1}"]
