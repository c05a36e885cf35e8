import type { AuditEventRecord } from '../../storage/storage.ts';
import { html } from '../pages/html.ts';
import { adminLayout, type AdminPageFrame } from './admin-layout.ts';
import { eventsTable, type EventNames } from './events-page.ts';

export interface Overview {
  clients: number;
  users: number;
  disabledUsers: number;
  activeKeys: number;
  recent: AuditEventRecord[];
}

export function overviewPage(frame: AdminPageFrame, overview: Overview, names: EventNames): string {
  return adminLayout(
    frame,
    html`<h1>Overview</h1>
<section class="panel">
<dl class="facts">
<dt><a href="/admin/clients">Clients</a></dt><dd>${overview.clients}</dd>
<dt><a href="/admin/users">Users</a></dt><dd>${overview.users}${overview.disabledUsers > 0 && html` <span class="muted">(${overview.disabledUsers} disabled)</span>`}</dd>
<dt><a href="/admin/keys">Active signing keys</a></dt><dd>${overview.activeKeys}</dd>
</dl>
</section>
<h2>Latest events</h2>
${eventsTable(overview.recent, names)}
<p><a href="/admin/events">All recent events</a> · <a href="/admin/openapi.json">Admin API (OpenAPI)</a></p>`,
  );
}
