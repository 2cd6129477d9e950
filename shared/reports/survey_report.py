"""The post-visit survey report: per endpoint and department, surveys texted in the range and how many were
answered, the average rating and the share who would choose a video visit again. The department is the one the
EHR's launch of the visit named; appointments known only from scheduling messages have none (their row says so)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta

from pydantic import BaseModel, Field

from shared.messaging.survey_models import VisitSurvey, VisitSurveyRepository
from shared.reports.models import ReportRange
from shared.setup.models import Organisation
from shared.storage.routing import Tables

DEPARTMENT_NOTE = (
    "Department as the EHR's launch of the visit named it; blank where no launch named one (the appointment's "
    "scheduling messages carry none): those rows are by endpoint only."
)


class SurveyRow(BaseModel):
    endpoint_id: str
    department_id: str | None = Field(description="As the EHR's launch named it; none: by endpoint only.")
    sent: int = Field(description="Surveys texted.")
    answered: int
    response_rate: float | None = Field(description="answered / sent, 0 to 1.")
    average_rating: float | None = Field(description="How was the video visit, 1 to 5, over the answers.")
    would_choose_video_again: float | None = Field(description="The share of answers saying yes, 0 to 1.")


class SurveyReport(BaseModel):
    range: ReportRange
    totals: SurveyRow = Field(description="Over every row (endpoint_id is 'all').")
    items: list[SurveyRow]
    note: str = DEPARTMENT_NOTE


def _row(endpoint_id: str, department_id: str | None, surveys: list[VisitSurvey]) -> SurveyRow:
    answers = [s for s in surveys if s.answered_at is not None and s.rating is not None]
    return SurveyRow(
        endpoint_id=endpoint_id,
        department_id=department_id,
        sent=len(surveys),
        answered=len(answers),
        response_rate=round(len(answers) / len(surveys), 3) if surveys else None,
        average_rating=round(sum(s.rating or 0 for s in answers) / len(answers), 2) if answers else None,
        would_choose_video_again=round(sum(1 for s in answers if s.again) / len(answers), 3) if answers else None,
    )


def survey_report(tables: Tables, organisation: Organisation, endpoints: list[str], span: ReportRange) -> SurveyReport:
    since = datetime.combine(span.start, time(), UTC)
    until = datetime.combine(span.end + timedelta(days=1), time(), UTC)
    rows = tables.data(organisation, VisitSurveyRepository)
    groups: dict[tuple[str, str | None], list[VisitSurvey]] = defaultdict(list)
    everything: list[VisitSurvey] = []
    for endpoint in endpoints:
        for survey in rows.iterate(
            endpoint, query="sent_at ge @since and sent_at lt @until", parameters={"since": since, "until": until}
        ):
            groups[(endpoint, survey.department_id)].append(survey)
            everything.append(survey)
    items = [_row(e, d, s) for (e, d), s in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or ""))]
    return SurveyReport(range=span, totals=_row("all", None, everything), items=items)
