"""A stand-in for the Azure Functions host (host.py): it indexes function_app, serves its HTTP routes (routes.py,
serving.py) with function keys, runs its queue (queues.py) and timer (timers.py) triggers against Azurite
(azurite.py), serves the portal, and loads local.settings.json (local_settings.py)."""
