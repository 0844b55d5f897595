"""The compute service's aggregates: a bot's `Host`, a workspace's `SleepPolicy`."""

from . import errors
from .host import AWAKE, Host, host_id
from .policy import DEFAULT_DEADLINE_MINUTES, SleepPolicy, policy_id

STREAM_TYPES = (Host, SleepPolicy)

__all__ = [
    "AWAKE",
    "DEFAULT_DEADLINE_MINUTES",
    "STREAM_TYPES",
    "Host",
    "SleepPolicy",
    "errors",
    "host_id",
    "policy_id",
]
