"""Root conftest. nameko 2.14's pytest plugin no longer monkey-patches: do it first."""
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

pytest_plugins = ["tests.support.plugin"]

