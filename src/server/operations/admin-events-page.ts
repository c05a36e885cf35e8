import type { AccountRecord, AuditEventRecord, ClientRecord } from '../../storage/storage.ts';
import type { Locale } from '../i18n/locales.ts';
import { t } from '../i18n/translate.ts';
import { html, type Html } from '../pages/html.ts';
import { adminLayout, time, type AdminPageFrame } from '../admin/admin-layout.ts';

/** Names for the `account:` and `client:` references of the audit trail, where they still exist. */
export interface EventNames {
  accounts: Map<string, AccountRecord>;
  clients: Map<string, ClientRecord>;
}

function reference(l: Locale, value: string | null, names: EventNames): Html {
  if (value === null) return html``;
  const [kind, id] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
  if (kind === 'account') {
    const account = names.accounts.get(id);
    if (account !== undefined) return html`<a href="/admin/users/${encodeURIComponent(id)}">${account.username}</a>`;
  }
  if (kind === 'client') {
    const client = names.clients.get(id);
    if (client !== undefined) return html`<a href="/admin/clients/${encodeURIComponent(id)}">${client.name}</a> <span class="muted">${t(l, 'admin.events.client')}</span>`;
  }
  return html`<code>${value}</code>`;
}

export function eventsTable(l: Locale, events: AuditEventRecord[], names: EventNames): Html {
  if (events.length === 0) return html`<p>${t(l, 'admin.events.none')}</p>`;
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">${t(l, 'admin.events.when')}</th><th scope="col">${t(l, 'admin.events.who')}</th><th scope="col">${t(l, 'admin.events.what')}</th><th scope="col">${t(l, 'admin.events.subject')}</th><th scope="col">${t(l, 'admin.events.details')}</th><th scope="col">${t(l, 'admin.events.address')}</th></tr></thead>
<tbody>
${events.map(
  (event) => html`<tr><td>${time(l, event.at)}</td><td>${reference(l, event.actor, names)}</td><td><code>${event.action}</code></td><td>${reference(l, event.subject, names)}</td><td>${
    Object.keys(event.detail).length === 0 ? '' : html`<pre>${JSON.stringify(event.detail)}</pre>`
  }</td><td>${event.ip ?? ''}</td></tr>
`,
)}</tbody>
</table></div>`;
}

export function eventsPage(frame: AdminPageFrame, events: AuditEventRecord[], names: EventNames, limit: number): string {
  return adminLayout(
    frame,
    html`<h1>${t(frame.locale, 'admin.events.title')}</h1>
<p>${t(frame.locale, 'admin.events.intro', { limit })}</p>
${eventsTable(frame.locale, events, names)}`,
  );
}
