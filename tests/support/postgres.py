"""Real PostgreSQL 15 for tests: the local province's private cluster (``province_gateway.local``)."""

from province_gateway.local.postgres import Postgres

__all__ = ["Postgres"]
