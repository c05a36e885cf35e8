import { html } from './html.ts';
import { layout } from './layout.ts';

export interface ConsentPageInput {
  csrfToken: string;
  clientName: string;
  username: string;
  /** Each requested scope with its description, and whether the user allowed it before. */
  scopes: { name: string; description: string; alreadyGranted: boolean }[];
  /** The authorization request, re-sent with the decision and validated again. */
  hiddenParams: [string, string][];
}

export function consentPage(input: ConsentPageInput): string {
  const newScopes = input.scopes.filter((scope) => !scope.alreadyGranted);
  const granted = input.scopes.filter((scope) => scope.alreadyGranted);
  return layout(
    'Allow access',
    html`<h1><strong>${input.clientName}</strong> wants to access your account</h1>
<p>Signed in as <strong>${input.username}</strong>.</p>
${newScopes.length > 0 && html`<p>If you allow it, ${input.clientName} will be able to:</p>
<ul class="scopes">${newScopes.map((scope) => html`<li>${scope.description} <span class="muted">(${scope.name})</span></li>`)}</ul>`}
${granted.length > 0 && html`<p class="muted">You already allowed: ${granted.map((scope, i) => html`${i > 0 && ', '}${scope.description}`)}.</p>`}
<form method="post" action="/authorize/decision">
<input type="hidden" name="_csrf" value="${input.csrfToken}">
${input.hiddenParams.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">
`)}<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`,
  );
}
