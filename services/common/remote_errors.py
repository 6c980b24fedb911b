"""Domain errors cross nameko RPC as themselves, not as a `RemoteError`.

nameko rebuilds an error on the caller's side only when its class is in nameko's registry.
`register_domain_errors()` registers every `DomainError` kind defined so far and every one
defined later; the entrypoints and RPC client modules call it when they are imported.
"""
from nameko.exceptions import deserialize_to_instance

from services.common.errors import DomainError, kinds


def register_domain_errors():
    for kind in kinds(DomainError):
        deserialize_to_instance(kind)
    if deserialize_to_instance not in DomainError.kind_listeners:
        DomainError.kind_listeners.append(deserialize_to_instance)
