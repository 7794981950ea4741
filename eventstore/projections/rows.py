"""Plain statements for the rows a runner or a projection writes once per batch.

An inline projection runs a batch per append: its checkpoint read, its view's
upsert and its checkpoint write are one short statement each, and building
them as ``QuerySet`` calls costs several times what the database spends on
them. These helpers send the same SQL the ORM would, built once per model,
columns and database, with values prepared by the model's fields
(``get_db_prep_save``) and read back through the same converters as any
query: the rows are the ORM's, only the building is skipped.

Supported databases: SQLite and PostgreSQL (``INSERT ... ON CONFLICT``); on any
other, :func:`upsert` falls back to ``bulk_create(update_conflicts=True)``.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import Field, Model

__all__ = ["read_row", "update_row", "upsert"]

_UPSERT_VENDORS = frozenset({"sqlite", "postgresql"})


def _fields(model: type[Model]) -> dict[str, Field[Any, Any]]:
    return {field.name: field for field in model._meta.concrete_fields}


@functools.cache
def _select(model: type[Model], alias: str, vendor: str, by: str) -> str:
    """``SELECT <concrete columns> FROM <table> WHERE <by> = %s`` for ``model``."""
    quote = connections[alias].ops.quote_name
    fields = _fields(model)
    columns = ", ".join(quote(str(field.column)) for field in fields.values())
    where = quote(str(fields[by].column))
    table = quote(model._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {where} = %s"  # noqa: S608 - model names


def read_row(model: type[Model], using: str, by: str, value: Any) -> Any:
    """Return the ``model`` row whose field ``by`` (unique) equals ``value``, or None.

    One ``SELECT`` of the model's concrete columns on database ``using``; the
    instance is built with ``Model.from_db`` after the converters a ``QuerySet``
    applies (the backend's, then the field's).
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(_select(model, using, connection.vendor, by), [value])
        row = cursor.fetchone()
    if row is None:
        return None
    names, converters = _converters(connection, model)
    values = list(row)
    for index, column, functions in converters:
        for function in functions:
            values[index] = function(values[index], column, connection)
    return model.from_db(using, names, values)


#: connection → model → (attribute names, converters of the columns that have some).
_CONVERTERS: weakref.WeakKeyDictionary[Any, dict[type[Model], Any]] = weakref.WeakKeyDictionary()


def _converters(connection: Any, model: type[Model]) -> Any:
    """The converters a query applies to each concrete column of ``model`` on ``connection``.

    Kept per connection object (each thread has its own): the backend's bound
    converters belong to it.
    """
    by_model = _CONVERTERS.setdefault(connection, {})
    if model not in by_model:
        fields = list(_fields(model).values())
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if functions:
                converters.append((index, column, functions))
        by_model[model] = ([field.attname for field in fields], converters)
    return by_model[model]


def update_row(
    instance: Model, values: dict[str, Any], *, where: dict[str, Any] | None = None
) -> int:
    """Write ``values`` (field name → value) to ``instance``'s row; return the rows changed.

    One ``UPDATE ... WHERE pk = %s`` (and ``field = %s`` for each of ``where``,
    a guard: 0 rows when the row no longer holds those values) on the
    instance's database. The instance's attributes are not changed.
    """
    model = type(instance)
    connection = connections[instance._state.db or "default"]
    quote = connection.ops.quote_name
    fields = _fields(model)
    guard = {model._meta.pk.name if model._meta.pk else "id": instance.pk, **(where or {})}
    assignments = ", ".join(f"{quote(str(fields[name].column))} = %s" for name in values)
    conditions = " AND ".join(f"{quote(str(fields[name].column))} = %s" for name in guard)
    parameters = [
        fields[name].get_db_prep_save(value, connection) for name, value in values.items()
    ]
    parameters += [
        fields[name].get_db_prep_save(value, connection) for name, value in guard.items()
    ]
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608 - model names
        f"WHERE {conditions}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return int(cursor.rowcount)


@functools.cache
def _upsert_sql(
    model: type[Model],
    alias: str,
    vendor: str,
    names: tuple[str, ...],
    unique: tuple[str, ...],
    update: tuple[str, ...],
    rows: int,
) -> str:
    quote = connections[alias].ops.quote_name
    fields = _fields(model)
    columns = ", ".join(quote(str(fields[name].column)) for name in names)
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    conflict = ", ".join(quote(str(fields[name].column)) for name in unique)
    assignments = ", ".join(
        f"{quote(str(fields[name].column))} = EXCLUDED.{quote(str(fields[name].column))}"
        for name in update
    )
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 - model names
        f"VALUES {', '.join([one] * rows)} ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
    )


def upsert(
    model: type[Model],
    instances: Sequence[Model],
    *,
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
    using: str | None = None,
    batch_size: int = 500,
) -> None:
    """Insert ``instances``, updating ``update_fields`` of those whose ``unique_fields`` exist.

    The statement of ``bulk_create(instances, update_conflicts=True, ...)``
    (``INSERT ... ON CONFLICT (...) DO UPDATE``), ``batch_size`` rows at a time,
    every concrete field but an auto primary key written, values prepared by the
    fields. ``using`` defaults to the model's write database.
    """
    if not instances:
        return
    from django.db import router

    alias = using or router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor not in _UPSERT_VENDORS:
        model._default_manager.using(alias).bulk_create(
            instances,
            batch_size=batch_size,
            update_conflicts=True,
            unique_fields=list(unique_fields),
            update_fields=list(update_fields),
        )
        return
    auto = model._meta.auto_field
    fields = [field for field in _fields(model).values() if field is not auto]
    names = tuple(field.name for field in fields)
    prepare: list[Callable[[Model], Any]] = [
        functools.partial(_prepared, field, connection) for field in fields
    ]
    batch_size = min(batch_size, connection.ops.bulk_batch_size(fields, instances) or batch_size)
    with connection.cursor() as cursor:
        for start in range(0, len(instances), batch_size):
            chunk = instances[start : start + batch_size]
            sql = _upsert_sql(
                model,
                alias,
                connection.vendor,
                names,
                tuple(unique_fields),
                tuple(update_fields),
                len(chunk),
            )
            cursor.execute(sql, [prepared(row) for row in chunk for prepared in prepare])


def _prepared(field: Field[Any, Any], connection: Any, instance: Model) -> Any:
    return field.get_db_prep_save(field.pre_save(instance, add=True), connection)
