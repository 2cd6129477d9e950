"""The integration records of one environment (test or prod): everything the EHR analyst types into the EHR for
each approved FHIR endpoint, as JSON for the portal's page or as a CSV."""

from __future__ import annotations

import azure.functions as func

from functions._http import csv_response
from functions.portal.parameters import RecordsQuery
from functions.portal.registry import Call, api
from shared.reports.csv import csv_text
from shared.setup.record_models import IntegrationRecordList

CSV_HEADER = ("environment", "endpoint", "fhir_base_url", "record", "name", "value")


@api.route(
    "GET",
    "portal/integration-records",
    summary="The integration records of every approved endpoint of one environment (admins and approvers)",
    description="Launch records (client ID, redirect URI, launch URL, scopes, token-response parameters), the "
    "writeback client where writeback is set (its scopes and the JWKS URL), the SMS and device test records. With "
    "`format=csv`, one row per value.",
    tag="integration",
    response=IntegrationRecordList,
    parameters=RecordsQuery,
    also_csv=True,
)
def environment_records(call: Call[None]) -> IntegrationRecordList | func.HttpResponse:
    query = call.checked(RecordsQuery)
    found = call.runtime.setup.integration_records.environment(call.principal, query.environment)
    if query.format != "csv":
        return found
    rows = [
        (query.environment, item.display_name or item.base_url, item.base_url, record.title, value.name, value.value)
        for item in found.items
        for record in item.records
        for value in record.values
    ]
    return csv_response(csv_text(CSV_HEADER, rows), f"integration-records-{query.environment}.csv")
