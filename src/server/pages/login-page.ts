import { html } from './html.ts';
import { layout } from './layout.ts';

export interface LoginPageInput {
  csrfToken: string;
  returnTo: string;
  username?: string | undefined;
  error?: string | undefined;
}

export function loginPage(input: LoginPageInput): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
${input.error && html`<p class="error" role="alert">${input.error}</p>`}
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${input.csrfToken}">
<input type="hidden" name="return_to" value="${input.returnTo}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${input.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}
