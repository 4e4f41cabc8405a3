"""Run-store mirror of the model registry: :class:`SqlModelIndex` over the ``model_artifacts`` table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from atb.errors import PersistenceError
from atb.ml.registry import ModelRecord, json_safe
from atb.persistence.tables import ModelArtifactRow

__all__ = ["SqlModelIndex"]


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _record(row: ModelArtifactRow) -> ModelRecord:
    return ModelRecord(name=row.name, version=row.version, path=Path(row.path), kind=row.kind, task=row.task,
                       features=tuple(row.features), train_start=_utc(row.train_start),
                       train_end=_utc(row.train_end), metrics=dict(row.metrics), params=dict(row.params),
                       sha256=row.sha256, created_at=_utc(row.created_at))


class SqlModelIndex:
    """Implements :class:`atb.ml.registry.ModelIndex` in the run store (SQLite or PostgreSQL).

    Parameters
    ----------
    session_factory : sessionmaker
        From :func:`atb.persistence.db.create_session_factory` (the table is created by
        :func:`atb.persistence.db.create_db_engine`).

    Notes
    -----
    The index keeps the fields listed in ``model_artifacts``; ``files``, ``atb_version`` and ``extra``
    stay in the registry's ``metadata.json``.
    """

    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def add(self, record: ModelRecord) -> None:
        """Insert one model version.

        Raises
        ------
        PersistenceError
            The (name, version) pair exists already, or the database rejects the write.
        """
        row = ModelArtifactRow(
            name=record.name, version=record.version, kind=record.kind, task=record.task,
            path=str(record.path), sha256=record.sha256, features=list(record.features),
            train_start=_utc(record.train_start), train_end=_utc(record.train_end),
            metrics=json_safe(record.metrics), params=json_safe(record.params),
            created_at=_utc(record.created_at))
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise PersistenceError(f"model {record.name} version {record.version} is already indexed"
                                   ) from None
        except SQLAlchemyError as exc:
            raise PersistenceError(f"could not index model {record.name} v{record.version}: {exc}") from None

    def list(self) -> list[ModelRecord]:
        """All indexed versions, ordered by name then version."""
        stmt = select(ModelArtifactRow).order_by(ModelArtifactRow.name, ModelArtifactRow.version)
        with self._sessions() as session:
            return [_record(r) for r in session.scalars(stmt)]
