"""Our errors as MLflow's: one ``MlflowException`` per :class:`RegistryError`, same message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import ErrorCode

from registry_gen.errors import RegistryError


def mlflow_error(error: RegistryError) -> MlflowException:
    """``error`` as the ``MlflowException`` MLflow's own stores raise for the same case.

    >>> from registry_gen.errors import ModelNotFound
    >>> mlflow_error(ModelNotFound("no registered model named 'x'")).error_code
    'RESOURCE_DOES_NOT_EXIST'
    """
    return MlflowException(str(error), error_code=ErrorCode.Value(error.error_code))


@contextmanager
def as_mlflow_errors() -> Iterator[None]:
    """Re-raise any :class:`RegistryError` inside as :func:`mlflow_error` (the cause kept).

    Raises:
        MlflowException: the registry refused the call.
    """
    try:
        yield
    except RegistryError as error:
        raise mlflow_error(error) from error
