"""Live containers of every docker and portainer connection: list, detail, restart, logs; a stack redeployed.

`engines` opens one Docker Engine API per environment (a docker connection is one environment, a
Portainer connection one per Docker endpoint, reached through Portainer's Docker proxy); `views`
turns the engine's answers into what the API shows; `service` (containers) and `stacks` (a stack
redeployed) are what the API and runbooks call.
"""

from .service import (
    CONNECTION_TYPES,
    container_detail,
    container_logs,
    containers_tree,
    restart_container,
    service_logs,
)
from .stacks import redeploy_stack, wait_rolled

__all__ = ["CONNECTION_TYPES", "container_detail", "container_logs", "containers_tree", "redeploy_stack",
           "restart_container", "service_logs", "wait_rolled"]
