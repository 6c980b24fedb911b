from services.common.migrations import run_env
from services.punchout.models import Base

run_env(Base.metadata)
