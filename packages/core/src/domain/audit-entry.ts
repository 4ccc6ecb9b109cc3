/** One change to a user's repository list, as the audit log keeps it (`GET /api/audit`). */
export interface AuditEntry {
  /** Stream id; pass it as `before` to read the next page. */
  id: string;
  /** Whose list changed. */
  user: string;
  /** Who changed it (a cluster user, an admin, or `github` for an event GitHub sent). */
  actor: string;
  at: string;
  /** Why: `api`, `admin`, `repository.renamed`, ... */
  reason: string;
  before: string[];
  after: string[];
}
