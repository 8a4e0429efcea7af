"""The errors a request can cause, each with its HTTP status and MLflow error code."""

from __future__ import annotations

from registry_gen.errors import RegistryError


class ServingError(RegistryError):
    """A request the server refuses: ``status`` for HTTP, ``code`` for MLflow's error shape."""

    status = 400
    code = "BAD_REQUEST"


class BadRequest(ServingError):
    """The body is not what the protocol asks for (MLflow's ``BAD_REQUEST``)."""


class InvalidInput(ServingError):
    """The body parses but does not fit the model's signature (``INVALID_PARAMETER_VALUE``)."""

    code = "INVALID_PARAMETER_VALUE"


class UnsupportedMediaType(ServingError):
    status = 415
    code = "BAD_REQUEST"


class PayloadTooLarge(ServingError):
    status = 413
    code = "RESOURCE_LIMIT_EXCEEDED"


class PredictionTimeout(ServingError):
    status = 504
    code = "DEADLINE_EXCEEDED"


class UnknownModel(ServingError):
    status = 404
    code = "RESOURCE_DOES_NOT_EXIST"


class NotReady(ServingError):
    status = 503
    code = "TEMPORARILY_UNAVAILABLE"


class SmokeTestFailed(RegistryError):
    """A newly resolved version loaded but could not predict: it is not swapped in."""
