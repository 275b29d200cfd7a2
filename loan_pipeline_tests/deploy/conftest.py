"""Fixtures for the deployment tests: a throwaway Postgres database and real Dagster processes."""

from __future__ import annotations

import pytest


def pytest_configure(config):
    # Registered here because pyproject.toml belongs to the project owner; the marker only labels
    # the tests (`-m deploy` / `-m "not deploy"`): they run in the default `pytest` run.
    config.addinivalue_line("markers", "deploy: deployment tests (compose/instance config, live processes, browser)")


@pytest.fixture
def postgres_db():
    from loan_pipeline_tests.deploy.harness import temporary_postgres_database

    with temporary_postgres_database() as db:
        yield db
