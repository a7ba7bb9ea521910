"""The data model. Schema changes go through Alembic migrations in ``server/migrations``."""

from .assignments import Assignment
from .audit import AuditEntry
from .audit import record as audit
from .forms import FORM_STATES
from .forms import Form
from .forms import FormAttachment
from .forms import FormVersion
from .people import ROLES
from .people import ApiToken
from .people import Device
from .people import EnrolmentCode
from .people import User
from .places import Commune
from .places import District
from .places import DistrictAgePopulation
from .places import UnitList
from .respondents import Respondent
from .rounds import Round
from .submissions import Blob
from .submissions import BlobChunk
from .submissions import BucketChange
from .submissions import BucketHorizon
from .submissions import Counter
from .submissions import DeviceSync
from .submissions import QuarantinedSubmission
from .submissions import ServerState
from .submissions import Submission
from .submissions import SubmissionConflict
from .submissions import SubmissionRevision
from .submissions import SyncOp
from .submissions import next_seq
from .types import utcnow

__all__ = [
    "Blob", "BlobChunk", "BucketChange", "BucketHorizon", "DeviceSync", "ServerState", "SubmissionConflict",
    "SubmissionRevision", "SyncOp",
    "ApiToken", "Assignment", "AuditEntry", "Commune", "Counter", "Device", "District",
    "DistrictAgePopulation", "EnrolmentCode", "FORM_STATES", "Form", "FormAttachment", "FormVersion",
    "QuarantinedSubmission", "ROLES", "Respondent",
    "Round", "Submission", "UnitList", "User", "audit", "next_seq", "utcnow",
]
