import { html } from './html.ts';
import { layout } from './layout.ts';

export interface HomePageInput {
  username: string | undefined;
  csrfToken: string;
  issuer: string;
}

export function homePage(input: HomePageInput): string {
  return layout(
    'Gatehouse',
    html`<h1>Gatehouse</h1>
<p class="muted">OAuth 2.0 authorization server at <code>${input.issuer}</code>.</p>
${
  input.username === undefined
    ? html`<p>You are not signed in.</p><p><a href="/login">Sign in</a></p>`
    : html`<p>Signed in as <strong>${input.username}</strong>.</p>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${input.csrfToken}"><button type="submit" class="secondary">Sign out</button></form>`
}`,
  );
}
