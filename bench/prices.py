"""Azure's public list prices the cost estimate uses (bench/costs.py), in one place: US dollars, pay as you go, East
US, read on READ_ON from the page named beside each. `ASSUMED` names the prices that could not be read from the
page itself here (the page was not reachable from this machine): they are the published figures as we know them,
to check against the page before a budget relies on them."""

from __future__ import annotations

from dataclasses import dataclass

READ_ON = "2026-12-07"


@dataclass(frozen=True)
class Price:
    usd: float
    per: float
    """How many units the price is for (a price per 10,000 transactions has per=10_000)."""
    source: str
    assumed: bool = False

    def of(self, units: float) -> float:
        return self.usd * units / self.per


FUNCTIONS_PAGE = "https://azure.microsoft.com/pricing/details/functions/ (Flex Consumption, on demand)"
# Flex Consumption, on demand: memory provisioned while an instance executes (GB-s) and executions, each after a
# monthly free grant per subscription. The GB-s rate as modal.com/blog/azure-function-pricing-guide (May 2025) quotes
# the pricing page; the execution rate and both grants as the pricing page states them (not reachable here).
FLEX_GB_SECOND = Price(0.000026, 1, FUNCTIONS_PAGE)
FLEX_EXECUTIONS = Price(0.40, 1_000_000, FUNCTIONS_PAGE, assumed=True)
FLEX_FREE_GB_SECONDS = 100_000  # assumed: the pricing page's on-demand free grant
FLEX_FREE_EXECUTIONS = 250_000  # assumed: the pricing page's on-demand free grant
FLEX_MINIMUM_SECONDS = 1.0
"""Assumed: an on-demand instance's active period is billed for at least a second (the Flex Consumption billing
docs, learn.microsoft.com/azure/azure-functions/flex-consumption-plan#billing)."""
INSTANCE_MEMORY_GB = 2.048  # infra/modules/functionapp.bicep: instanceMemoryMB 2048, the Flex default

# Standard general-purpose v2 storage, locally redundant. Table transactions are one price whatever the kind (an
# entity group transaction counts as one); queue operations come in two classes.
TABLE_TRANSACTIONS = Price(0.00036, 10_000, "https://azure.microsoft.com/pricing/details/storage/tables/", assumed=True)
QUEUE_CLASS_1 = Price(0.004, 10_000, "https://azure.microsoft.com/pricing/details/storage/queues/", assumed=True)
"""Writes: put, update, delete, clear, create."""
QUEUE_CLASS_2 = Price(0.004, 10_000, "https://azure.microsoft.com/pricing/details/storage/queues/", assumed=True)
"""Reads: get (receive), peek, metadata."""

KEY_VAULT_OPERATIONS = Price(
    0.03, 10_000, "https://learn.microsoft.com/answers/questions/5608202 (Key Vault standard: $0.03 per 10,000)"
)

# Azure Communication Services SMS, US toll-free, per message segment, plus the carrier surcharge per segment.
_ACS = (
    "https://learn.microsoft.com/azure/communication-services/concepts/sms-pricing "
    "(MicrosoftDocs/azure-docs, includes/sms-tollfree-pricing.md)"
)
SMS_SEND_SEGMENT = Price(0.0075, 1, _ACS)
SMS_RECEIVE_SEGMENT = Price(0.0075, 1, _ACS)
SMS_SEND_SURCHARGE = Price(0.0025, 1, _ACS)
SMS_RECEIVE_SURCHARGE = Price(0.0010, 1, _ACS)
TOLL_FREE_NUMBER_MONTH = Price(2.0, 1, _ACS)

ALL = {
    "Flex Consumption, per GB-s": FLEX_GB_SECOND,
    "Flex Consumption, per million executions": FLEX_EXECUTIONS,
    "Table transactions, per 10,000": TABLE_TRANSACTIONS,
    "Queue class 1 operations, per 10,000": QUEUE_CLASS_1,
    "Queue class 2 operations, per 10,000": QUEUE_CLASS_2,
    "Key Vault operations (standard), per 10,000": KEY_VAULT_OPERATIONS,
    "SMS sent, US toll-free, per segment": SMS_SEND_SEGMENT,
    "SMS received, US toll-free, per segment": SMS_RECEIVE_SEGMENT,
    "Carrier surcharge, sent, per segment": SMS_SEND_SURCHARGE,
    "Carrier surcharge, received, per segment": SMS_RECEIVE_SURCHARGE,
    "Toll-free number, per month": TOLL_FREE_NUMBER_MONTH,
}
