"""infra/main.parameters.json resolved as azd resolves it, and what two provisions in a row do to the keys.

azd reads the parameters file, replaces every `${VAR}` (`${VAR=default}` when VAR is unset) with the value in the
environment's .env (its own variables, what the operator set with `azd env set`, and the outputs of the last
successful provision, which it writes there), then runs `$(secretOrRandomPassword [vault secret])`: with a vault
and a secret it reads the secret (a random value when the secret does not exist), with fewer arguments it makes a
random value. Without a Bicep compiler, the key vault module's conditions are evaluated here from their text."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.support.bicep import BicepFile

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = BicepFile(INFRA / "main.bicep")
VAULT = BicepFile(INFRA / "modules" / "keyvault.bicep")
PARAMETERS = (INFRA / "main.parameters.json").read_text()

# What azd itself sets in every environment (azd's documented environment variables).
AZD_VARIABLES = {
    "AZURE_ENV_NAME",
    "AZURE_LOCATION",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_PRINCIPAL_ID",
    "AZURE_PRINCIPAL_TYPE",
    "AZURE_RESOURCE_GROUP",
    "AZURE_TENANT_ID",
}
VARIABLE = re.compile(r"\$\{(\w+)(=([^}]*))?\}")
COMMAND = re.compile(r"\$\(\s*secretOrRandomPassword((?:\s+[^\s)]+)*)\s*\)")
VAULT_NAME = "vvtestabc123kv"  # the name main.bicep gives the vault ('${compactName}kv')


def outputs() -> set[str]:
    return {declaration.name for declaration in MAIN.of_kind("output")}


def set_by_the_operator() -> set[str]:
    """Variables the deploy instructions tell the operator to set (`azd env set NAME value`)."""
    text = (ROOT / "README.md").read_text() + (INFRA / "README.md").read_text()
    return set(re.findall(r"azd env set\s+(\w+)\s", text))


def test_every_variable_of_the_parameters_file_has_a_source() -> None:
    sources = outputs() | AZD_VARIABLES | set_by_the_operator()
    unresolved = sorted(
        {name for name, has_default, _ in VARIABLE.findall(PARAMETERS) if not has_default and name not in sources}
    )
    assert unresolved == [], (
        f"{unresolved}: neither an output of main.bicep (which azd stores after a provision), nor an azd variable, "
        "nor set in the deploy instructions, nor given a default: azd resolves them to empty strings"
    )


def resolve(env: dict[str, str], vault: dict[str, str]) -> dict[str, Any]:
    """The parameters azd hands ARM, with this .env and the vault's secrets as they stand."""

    def variable(match: re.Match[str]) -> str:
        name, has_default, default = match.groups()
        return env[name] if name in env else (default or "") if has_default else ""

    def command(match: re.Match[str]) -> str:
        args = match.group(1).split()
        if len(args) == 2 and args[0] == VAULT_NAME and vault.get(args[1], "").strip():
            return vault[args[1]]
        return secrets.token_urlsafe(18)  # azd's random password

    text = COMMAND.sub(command, VARIABLE.sub(variable, PARAMETERS))
    parameters = json.loads(text)["parameters"]
    return {name: entry["value"] for name, entry in parameters.items()}


def evaluate(expression: str, scope: dict[str, Any]) -> Any:
    """A Bicep condition of the small kind the key vault module uses: names, strings, empty(), !, &&, ||, ==, !=."""
    python = re.sub(r"!(?!=)", " not ", expression).replace("&&", " and ").replace("||", " or ")
    return eval(python, {"__builtins__": {}, "empty": lambda value: not value}, scope)  # noqa: S307


def module_scope(parameters: dict[str, Any]) -> dict[str, Any]:
    """The key vault module's parameters and variables for these main.bicep parameters."""
    declared = {p.name: p for p in MAIN.of_kind("parameter")}
    main_values = {n: parameters.get(n, "") for n in declared}
    scope: dict[str, Any] = {"name": VAULT_NAME}
    for key, value in re.findall(r"^\s+(\w+): (\w+)$", MAIN.get("module", "vault").source, re.M):
        if value in main_values:
            scope[key] = main_values[value]
    for parameter in VAULT.of_kind("parameter"):
        if parameter.name not in scope:
            default = re.search(r"=\s*'([^']*)'\s*$", parameter.source)
            scope[parameter.name] = default.group(1) if default else None
    for variable in VAULT.of_kind("variable"):
        value = variable.source.split("=", 1)[1].strip()
        if not value.startswith("'"):
            scope[variable.name] = evaluate(value, scope)
    return scope


def provision(env: dict[str, str], vault: dict[str, str]) -> None:
    """One `azd provision`: the secrets the module writes land in the vault, and the outputs in the .env."""
    parameters = resolve(env, vault)
    declared = {p.name for p in MAIN.of_kind("parameter")}
    assert set(parameters) <= declared, f"not parameters of main.bicep: {set(parameters) - declared}"
    scope = module_scope(parameters)
    for resource in VAULT.of_kind("resource"):
        if "Microsoft.KeyVault/vaults/secrets@" not in resource.source:
            continue
        name = re.search(r"name: '([^']+)'", resource.source)
        value = re.search(r"value: (\w+)", resource.source)
        assert name and value
        condition = re.search(r"= if \((.*)\) \{", resource.source.splitlines()[0])
        if condition is None or evaluate(condition.group(1), scope):
            vault[name.group(1)] = scope[value.group(1)]
    for output in MAIN.of_kind("output"):  # azd writes every output to the .env
        env[output.name] = VAULT_NAME if "vault.outputs.name" in output.source else "an output"


def first_environment() -> dict[str, str]:
    return {
        "AZURE_ENV_NAME": "vv-test",
        "AZURE_LOCATION": "eastus2",
        "PORTAL_API_AUDIENCE": "00000000-0000-0000-0000-000000000001",
        "MEETING_ORGANIZER_ID": "00000000-0000-0000-0000-000000000002",
    }


def test_the_first_provision_makes_both_keys() -> None:
    vault: dict[str, str] = {}
    provision(first_environment(), vault)
    assert len(vault.get("join-link-key", "")) >= 16 and len(vault.get("opt-out-key", "")) >= 16
    assert vault["join-link-key"] != vault["opt-out-key"]


@pytest.mark.parametrize("provisions", [1, 3])
def test_later_provisions_never_overwrite_the_keys(provisions: int) -> None:
    env, vault = first_environment(), dict[str, str]()
    provision(env, vault)
    made = dict(vault)
    for _ in range(provisions):
        env["ENABLE_SMS_EVENTS"] = "true"  # an infra change, an upgrade: azd provision again
        provision(env, vault)
    assert vault == made


def test_a_provision_after_a_key_rotation_keeps_the_rotated_key() -> None:
    env, vault = first_environment(), dict[str, str]()
    provision(env, vault)
    vault["join-link-key-previous"], vault["join-link-key"] = vault["join-link-key"], "rotated " + "k" * 32
    rotated = dict(vault)
    provision(env, vault)
    assert vault == rotated


def test_provisioning_needs_no_secret_read_by_the_deployer() -> None:
    """azd reads a secret with the deployer's own credential, which has no data-plane role on the (RBAC) vault:
    a read would fail the provision, so the parameters never ask for one."""
    assert all(len(m.group(1).split()) < 2 for m in COMMAND.finditer(PARAMETERS))
