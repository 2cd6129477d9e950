"""Operator commands run from a workstation against a deployment (`python -m ops --help`, or the make targets):
rotating the join-link key, and backing up and restoring the control plane. They sign in as the operator
(DefaultAzureCredential: `az login` or `azd auth login`), never with the app's identity."""
