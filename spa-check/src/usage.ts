// What an SPA does with the contract (issue 7 item 6): if openapi/openapi.json changes in a way
// that breaks a client, this file stops type-checking and `make check-ts` fails.
// src/api.d.ts is generated from openapi/openapi.json by openapi-typescript (never edited, never committed).
import type { components, operations, paths } from "./api";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];
type FindingPage = Schemas["FindingPage"];
type FindingRead = Schemas["FindingRead"];
type ReportRead = Schemas["ReportRead"];
type Json<Op extends keyof operations, Code extends keyof operations[Op]["responses"]> =
  operations[Op]["responses"][Code] extends { content: { "application/json": infer T } } ? T : never;

// 1. List findings with the ledger's filters; the query type is the operation's own.
type FindingQuery = NonNullable<operations["list_findings"]["parameters"]["query"]>;
const overdueKeyProblems: FindingQuery = { status: "in_progress", overdue: true, key_problem: true, limit: 50 };
const asLedger: FindingQuery = { ...overdueKeyProblems, format: "xlsx", headers: "zh" };

function query(q: Record<string, string | number | boolean | null | undefined>): string {
  const pairs = Object.entries(q).filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return pairs.length ? `?${pairs.join("&")}` : "";
}

export async function listFindings(token: string, q: FindingQuery): Promise<FindingRead[]> {
  const items: FindingRead[] = [];
  let cursor: string | null | undefined = q.cursor;
  do {
    const res = await fetch(`/findings${query({ ...q, cursor })}`, { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) throw await problemOf(res);
    const page: Json<"list_findings", 200> = (await res.json()) as FindingPage;
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

// 2. A finding's fields and the actions the caller may take, as the SPA renders them.
export function describe(f: FindingRead): string {
  const who = f.responsible_organisation?.name ?? "未分配";
  const leads = f.lead_organisations.map((o) => o.name).join("、");
  const late = f.overdue ? "（逾期）" : "";
  const can: string[] = f.allowed_actions;
  return `${f.code ?? ""} ${f.title} — ${who} ${leads} ${f.deadline ?? ""}${late} [${can.join(",")}] v${f.version}`;
}

// 3. Problem documents: every error is one, with a stable code and field errors on 422.
export async function problemOf(res: Response): Promise<Problem> {
  const body = (await res.json()) as Json<"get_finding", 404>;
  return body;
}

export function fieldMessages(p: Problem): string[] {
  return (p.errors ?? []).map((e) => `${e.pointer}: ${e.message} (${e.type})`);
}

export function isStale(p: Problem): boolean {
  return p.status === 412 || p.code === "stale_resource";
}

// 4. An action with If-Match: the body type comes from the contract.
type AssignBody = NonNullable<paths["/findings/{finding_id}/assign"]["post"]["requestBody"]>["content"]["application/json"];
export async function assign(token: string, f: FindingRead, etag: string, body: AssignBody): Promise<FindingRead> {
  const res = await fetch(`/findings/${f.id}/assign`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "If-Match": etag, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await problemOf(res);
  return (await res.json()) as Json<"assign_finding", 200>;
}

// 5. A report: due date, state and publication, plus the list's filter type.
export function reportLine(r: ReportRead): string {
  const due = r.due.due_date ?? (r.due.undated ? "无固定期限" : "");
  const filers = r.filers.map((o) => o.name).join("、");
  return `${r.title} ${r.kind} ${r.status} ${filers} ${due} ${r.overdue ? "逾期" : ""} ${r.portal_url ?? ""}`;
}
type ReportQuery = NonNullable<operations["list_reports"]["parameters"]["query"]>;
export const lateReports: ReportQuery = { overdue: true, format: "csv", headers: "en" };

// 6. The ledger file is part of the contract: both media types are declared on the list.
type LedgerTypes = keyof operations["list_findings"]["responses"][200]["content"];
export const ledgerTypes: LedgerTypes[] = [
  "application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

export { asLedger, overdueKeyProblems };
