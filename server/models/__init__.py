"""The data model. Schema changes go through Alembic migrations in ``server/migrations``."""

from server.models.assignments import Assignment
from server.models.audit import AuditEntry
from server.models.audit import record as audit
from server.models.audit import record_read as audit_read
from server.models.boundaries import BoundarySet
from server.models.console import SubmissionPlace
from server.models.forms import FORM_STATES
from server.models.forms import Form
from server.models.forms import FormAttachment
from server.models.forms import FormVersion
from server.models.openrosa import AppUser
from server.models.openrosa import AppUserForm
from server.models.openrosa import OpenRosaAttachment
from server.models.openrosa import OpenRosaSubmission
from server.models.outreach import OutreachPlan
from server.models.outreach import OutreachPlanRow
from server.models.people import ROLES
from server.models.people import ApiToken
from server.models.people import Device
from server.models.people import EnrolmentCode
from server.models.people import User
from server.models.places import Commune
from server.models.places import District
from server.models.places import DistrictAgePopulation
from server.models.places import UnitList
from server.models.plans import PLAN_STATUSES
from server.models.plans import RoundPlan
from server.models.plans import RoundPlanCommune
from server.models.respondents import Respondent
from server.models.rounds import Round
from server.models.scopes import CoordinatorDistrict
from server.models.submissions import HEAD_REVISION
from server.models.submissions import Blob
from server.models.submissions import BlobChunk
from server.models.submissions import BlobUpload
from server.models.submissions import BlobUploadChunk
from server.models.submissions import BucketChange
from server.models.submissions import BucketHorizon
from server.models.submissions import Counter
from server.models.submissions import DeviceSync
from server.models.submissions import QuarantinedSubmission
from server.models.submissions import ServerState
from server.models.submissions import Submission
from server.models.submissions import SubmissionConflict
from server.models.submissions import SubmissionRevision
from server.models.submissions import SyncOp
from server.models.submissions import next_seq
from server.models.types import utcnow

__all__ = [
    "Blob", "BlobChunk", "BlobUpload", "BlobUploadChunk",
    "BucketChange", "BucketHorizon", "DeviceSync", "ServerState", "SubmissionConflict",
    "HEAD_REVISION", "SubmissionRevision", "SyncOp",
    "ApiToken", "AppUser", "AppUserForm", "Assignment", "OpenRosaAttachment", "OpenRosaSubmission",
    "OutreachPlan", "OutreachPlanRow",
    "AuditEntry", "BoundarySet", "Commune", "CoordinatorDistrict", "Counter", "Device", "District",
    "DistrictAgePopulation", "EnrolmentCode", "FORM_STATES", "Form", "FormAttachment", "FormVersion",
    "PLAN_STATUSES", "QuarantinedSubmission", "ROLES", "Respondent",
    "Round", "RoundPlan", "RoundPlanCommune", "Submission", "SubmissionPlace", "UnitList", "User", "audit",
    "audit_read", "next_seq", "utcnow",
]
