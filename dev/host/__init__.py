"""A stand-in for the Azure Functions host: it indexes function_app, serves its HTTP routes (with function keys),
runs its queue and timer triggers against Azurite, serves the portal, and loads local.settings.json."""

from dev.host.host import DevHost, HostConfig, HostKeys

__all__ = ["DevHost", "HostConfig", "HostKeys"]
