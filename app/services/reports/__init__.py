"""Reports (报告): obligations generated from each profile's calendar, the reports themselves and
their workflow, copies, deadlines, publication and the compliance view (DOMAIN.md "Reports").

Modules: `resolution` (who files, who receives, who gets copies), `obligations` (generation,
idempotent), `workflow` (the transition table), `access` (who sees and acts), `content` (what a
report must contain), `commands` (generate, edit, actions), `queries` (reads, lists, history),
`compliance` (filed / late / missing), `public` (published reports, anonymously), `ad_hoc`
(reports filed as things happen).
"""

from app.services.reports.ad_hoc import create_ad_hoc
from app.services.reports.commands import act, etag, generate, set_due_date, update_content
from app.services.reports.compliance import compliance
from app.services.reports.public import get_published, list_published
from app.services.reports.queries import get_report, list_reports, report_history

__all__ = ["act", "compliance", "create_ad_hoc", "etag", "generate", "get_published", "get_report", "list_published",
           "list_reports", "report_history", "set_due_date", "update_content"]
