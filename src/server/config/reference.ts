import { optionDocs } from './defaults.ts';

/** The configuration reference (docs/configuration.md), rendered from the defaults file. */
export function configurationReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/server/config/defaults.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Options come from the defaults below, then a JSON file given with `--config FILE` (keys are the',
    'option names), then environment variables: a later source wins.',
    '',
    '| option | environment | default | unit | meaning |',
    '|---|---|---|---|---|',
  ];
  for (const [name, option] of Object.entries(optionDocs)) {
    const fallback = JSON.stringify(option.default);
    lines.push(
      `| \`${name}\` | ${option.env === undefined ? '' : `\`${option.env}\``} | \`${fallback}\` | ${option.unit ?? ''} | ${option.doc.replaceAll('|', '\\|')} |`,
    );
  }
  lines.push('', ...signInThrottling);
  return `${lines.join('\n')}\n`;
}

/** The policy the `login…` options configure, as a whole (src/server/login/login-throttle.ts). */
const signInThrottling = [
  '## Sign-in throttling',
  '',
  'Online password guessing is slowed (RFC 6819 §4.4.3.6) without letting a stranger lock a user',
  'out. Only failed sign-ins count; a successful one clears the counts of its account. With the',
  'defaults:',
  '',
  '- **Per address**: after 30 failed sign-ins from one address (`loginAttemptsPerIp`), whatever the',
  '  usernames, that address gets 429 with `Retry-After` until 15 minutes after its latest failure',
  '  (`loginAttemptWindowSeconds`).',
  '- **Per account and address**: after 10 failed sign-ins for one account from one address',
  '  (`loginAttemptsPerAccount`), that pair gets 429 until 15 minutes after its latest failure. Other',
  '  addresses, the owner\'s among them, are not refused.',
  '- **Per account, a growing wait, never a lock** (as Keycloak\'s brute-force detection): after 5',
  '  failed sign-ins for one account from anywhere (`loginDelayAfterFailures`), each further attempt',
  '  must wait 1 second after the latest failure, then 2, 4, 8 … up to 15 minutes',
  '  (`loginDelayMaxSeconds`). An attempt during the wait gets 429 with `Retry-After` and its password',
  '  is not checked. The count is forgotten 12 hours after its latest failure',
  '  (`loginDelayResetSeconds`).',
  '- **Known browsers** (OWASP "device cookies"): a successful sign-in sets `gatehouse_device`, an',
  '  HMAC-signed cookie naming the account (HttpOnly, SameSite=Lax, Path=/login, Secure on an https',
  '  issuer, 180 days). A browser that presents it for that account does not wait for failures made',
  '  elsewhere; its own failures count against its cookie, with the per-account-and-address limit,',
  '  and against its address, never against the account.',
  '',
  'Usernames are counted by their normalised key (case, width and look-alike letters gain nothing).',
  'The counts live in the process, or in Redis when `redisUrl` is set so that every instance counts',
  'together; a Redis that does not answer counts nothing and refuses nothing.',
];
