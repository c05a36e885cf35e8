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
  return `${lines.join('\n')}\n`;
}
