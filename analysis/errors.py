"""The one root exception of the analysis package and its stable codes."""

from __future__ import annotations


class AnalysisError(Exception):
    """Base for every error the analysis package raises; carries a stable ``code``."""

    code = "analysis-error"

    def __init__(self, detail: str, *, errors: list[dict] | None = None, **fields):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.fields = fields


class ColumnMissing(AnalysisError):
    """A column named in the call is not in the frame."""

    code = "column-missing"


class DesignInvalid(AnalysisError):
    """Weights, strata, PSUs or fpc are inconsistent or out of range."""

    code = "design-invalid"


class TooFewPsus(AnalysisError):
    """A stratum has a single PSU and the lonely-PSU policy is ``"error"``."""

    code = "too-few-psus"


class VariableInvalid(AnalysisError):
    """An analysis variable has the wrong type or values (e.g. a non-binary proportion)."""

    code = "variable-invalid"


class DomainEmpty(AnalysisError):
    """A domain (``by`` group) has no observation with positive weight."""

    code = "domain-empty"


class ModelInvalid(AnalysisError):
    """A model cannot be fitted: bad formula, singular design matrix, no convergence."""

    code = "model-invalid"


class ConvergenceFailed(AnalysisError):
    """An iterative fit (e.g. the Fay–Herriot area variance) did not converge."""

    code = "no-convergence"


class PlaceUnknown(AnalysisError):
    """A district or commune is not in the census unit list (2019 structure)."""

    code = "place-unknown"


class WeightsInconsistent(AnalysisError):
    """Design weights do not reproduce the census population they are built from."""

    code = "weights-inconsistent"


class GroupInvalid(AnalysisError):
    """A target-group definition is malformed or names a column the frame lacks."""

    code = "group-invalid"


class FeaturesUnavailable(AnalysisError):
    """A model uses features the census tables cannot supply for a projection."""

    code = "features-unavailable"


class NotFitted(AnalysisError):
    """An estimator was used before ``fit``."""

    code = "not-fitted"


class BoundariesInvalid(AnalysisError):
    """A boundary file is not a GeoJSON FeatureCollection of polygons keyed by GSO codes."""

    code = "boundaries-invalid"


class BoundariesTooLarge(AnalysisError):
    """A boundary file has more bytes or positions than the server accepts."""

    code = "boundaries-too-large"
