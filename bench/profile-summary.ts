/**
 * Where a server's CPU went, from a V8 CPU profile (`--cpu-prof`; `BENCH_CPU_PROF=DIR npm run bench`
 * writes one per server): self time by layer and by function, as shares of the busy time (idle and
 * module loading left out).
 *
 *   node --import tsx bench/profile-summary.ts /tmp/profiles/Gatehouse.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText = '25'] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

/** Layers, first match wins; the rest is "other" (V8 and Node internals without a script). */
const layers: Array<[string, RegExp]> = [
  ['idle', /^\(idle\)/],
  ['start-up (module loading)', /node:internal\/modules|wrapSafe|compileSourceTextModule|source_map/],
  ['garbage collection', /^\(garbage collector\)/],
  ['SQLite storage (src/storage, better-sqlite3)', /src\/storage\/|better-sqlite3/],
  ['Gatehouse protocol code (src/server, src/shared)', /src\/(server|shared|resource-server)\//],
  ['HTTP in Node (parser, sockets, writes)', /node:_http|node:net|node:internal\/(streams|stream_base|http)|^writev|^writeString|node:events/],
  ['Fastify and its plugins', /node_modules\/(fastify|find-my-way|@fastify|avvio|light-my-request|fast-json-stringify)/],
  ['logging (pino)', /node_modules\/(pino|sonic-boom|@pinojs|quick-format|fast-redact)/],
  ['crypto (hashing, signing, random)', /node:internal\/crypto/],
  ['Kysely', /node_modules\/kysely/],
];

const selfTime = new Map<number, number>();
profile.samples.forEach((id, index) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

const byFunction = new Map<string, number>();
const byLayer = new Map<string, number>();
for (const node of profile.nodes) {
  const time = selfTime.get(node.id) ?? 0;
  if (time === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*\/node_modules\//, 'node_modules/').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
  const name = `${functionName || '(anonymous)'} ${where}${where === '' ? '' : `:${lineNumber + 1}`}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + time);
  const layer = layers.find(([, pattern]) => pattern.test(name))?.[0] ?? 'other (V8 and Node internals)';
  byLayer.set(layer, (byLayer.get(layer) ?? 0) + time);
}
const notBusy = (byLayer.get('idle') ?? 0) + (byLayer.get('start-up (module loading)') ?? 0);
const busy = [...byLayer.values()].reduce((sum, time) => sum + time, 0) - notBusy;
const share = (time: number) => `${((100 * time) / busy).toFixed(1)}%`;

console.log(`busy ${(busy / 1e6).toFixed(2)} s of ${file}\n\n| layer | share of busy time |\n|---|---:|`);
for (const [layer, time] of [...byLayer].sort((a, b) => b[1] - a[1])) if (!layer.startsWith('idle') && !layer.startsWith('start-up')) console.log(`| ${layer} | ${share(time)} |`);
console.log('\n| function (self time) | share |\n|---|---:|');
const hidden = /^\((idle|program)\)|node:internal\/modules/;
for (const [name, time] of [...byFunction].filter(([name]) => !hidden.test(name)).sort((a, b) => b[1] - a[1]).slice(0, Number(topText))) {
  console.log(`| ${name} | ${share(time)} |`);
}
