/**
 * The English catalog: every sentence Gatehouse's pages show. Messages are trusted markup (they
 * may hold <strong> or a link to our own pages); `{name}` placeholders are filled with escaped
 * values by `t()`. The Korean catalog must have exactly these keys (test/unit/i18n.test.ts).
 */
export const en = {
  'layout.language': 'Language',

  'common.signedInAs': 'Signed in as <strong>{username}</strong>.',
  'common.signOut': 'Sign out',

  'login.title': 'Sign in',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.failed': 'Wrong username or password.',

  'consent.title': 'Allow access',
  'consent.heading': '<strong>{client}</strong> wants to access your account',
  'consent.willBeAbleTo': 'If you allow it, {client} will be able to:',
  'consent.alreadyAllowed': 'You already allowed: {scopes}.',
  'consent.allow': 'Allow',
  'consent.deny': 'Deny',
  'consent.takeBack': 'You can take this access back at any time on <a href="/account">your account page</a>.',

  'scope.openid': 'Sign you in with your account',
  'scope.profile': 'See your username and name',
  'scope.email': 'See your email address',
  'scope.offline_access': 'Keep access while you are not using the app',
  'scope.admin': 'Manage this Gatehouse: clients, users, signing keys and the audit trail (admin API)',

  'error.title': 'Something went wrong',
  'error.code': 'Error code: <code>{code}</code>',
  'error.home': 'Go to the home page',
  'error.explain.invalid_client': 'The app that sent you here is not registered with this server, or asked to send you back to an address it did not register. Go back to the app and try again; if it keeps happening, tell the app’s developers.',
  'error.explain.forbidden': 'The form expired or did not come from this site. Go back, reload the page and try again.',
  'error.explain.not_found': 'There is no page at this address.',
  'error.explain.too_many': 'Too many attempts. Wait a few minutes, then try again.',
  'error.explain.temporarily_unavailable': 'The service is briefly unavailable. Try again in a few seconds.',
  'error.explain.server_error': 'The server met an unexpected problem. It has been logged; try again later.',
  'error.explain.other': 'The request could not be completed. If an app sent you here, go back to it and try again.',

  'home.server': 'OAuth 2.0 authorization server at <code>{issuer}</code>.',
  'home.notSignedIn': 'You are not signed in.',
  'home.account': 'Your account and authorized apps',

  'account.title': 'Your account',
  'account.appsHeading': 'Authorized apps',
  'account.appsIntro': 'These apps may use your account. Revoking access stops the app at once; it has to ask you again to come back.',
  'account.noApps': 'You have not allowed any app to use your account.',
  'account.allowedTo': 'Allowed to:',
  'account.lastUsed': 'Last used {date}',
  'account.neverUsed': 'Not used since you allowed it',
  'account.allowedOn': 'Allowed {date}',
  'account.revoke': 'Revoke access',
  'account.revoked': 'Access revoked. The app’s tokens no longer work.',
  'account.passwordHeading': 'Change password',
  'account.currentPassword': 'Current password',
  'account.newPassword': 'New password',
  'account.confirmPassword': 'New password again',
  'account.passwordHint': 'At least 8 characters. Changing it signs you out everywhere else.',
  'account.changePassword': 'Change password',
  'account.passwordChanged': 'Your password was changed, and you were signed out everywhere else.',
  'account.wrongPassword': 'Your current password is not right.',
  'account.passwordMismatch': 'The two new passwords are not the same.',
  'account.passwordLength': 'The new password must be 8 to 1024 characters long.',
  'account.date': '{date} UTC',
} as const satisfies Record<string, string>;

export type MessageKey = keyof typeof en;
