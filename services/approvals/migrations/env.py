from services.common.migrations import run_env
from services.approvals.models import Base

run_env(Base.metadata)
