import type { AccountRecord, AuditEventRecord, ClientRecord } from '../../storage/storage.ts';
import { html, type Html } from '../pages/html.ts';
import { adminLayout, time, type AdminPageFrame } from './admin-layout.ts';

/** Names for the `account:` and `client:` references of the audit trail, where they still exist. */
export interface EventNames {
  accounts: Map<string, AccountRecord>;
  clients: Map<string, ClientRecord>;
}

function reference(value: string | null, names: EventNames): Html {
  if (value === null) return html``;
  const [kind, id] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
  if (kind === 'account') {
    const account = names.accounts.get(id);
    if (account !== undefined) return html`<a href="/admin/users/${encodeURIComponent(id)}">${account.username}</a>`;
  }
  if (kind === 'client') {
    const client = names.clients.get(id);
    if (client !== undefined) return html`<a href="/admin/clients/${encodeURIComponent(id)}">${client.name}</a> <span class="muted">(client)</span>`;
  }
  return html`<code>${value}</code>`;
}

export function eventsTable(events: AuditEventRecord[], names: EventNames): Html {
  if (events.length === 0) return html`<p>No events yet.</p>`;
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Subject</th><th scope="col">Details</th><th scope="col">Address</th></tr></thead>
<tbody>
${events.map(
  (event) => html`<tr><td>${time(event.at)}</td><td>${reference(event.actor, names)}</td><td><code>${event.action}</code></td><td>${reference(event.subject, names)}</td><td>${
    Object.keys(event.detail).length === 0 ? '' : html`<pre>${JSON.stringify(event.detail)}</pre>`
  }</td><td>${event.ip ?? ''}</td></tr>
`,
)}</tbody>
</table></div>`;
}

export function eventsPage(frame: AdminPageFrame, events: AuditEventRecord[], names: EventNames, limit: number): string {
  return adminLayout(
    frame,
    html`<h1>Recent events</h1>
<p>The last ${limit} events of the audit trail, newest first: sign-ins, failed sign-ins, consents, token revocations and every administrative action.</p>
${eventsTable(events, names)}`,
  );
}
