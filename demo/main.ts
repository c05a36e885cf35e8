import { startDemo } from './start-demo.ts';

const accessTokenTtlSeconds = Number(process.env.DEMO_ACCESS_TOKEN_TTL ?? 30);

/** `npm start`: the whole seed story on 127.0.0.1 — Gatehouse :4000, calendar API :4001, Mine :3000. */
const demo = await startDemo({
  dataDir: process.env.DEMO_DATA_DIR ?? '.gatehouse/demo',
  ports: {
    gatehouse: Number(process.env.GATEHOUSE_PORT ?? 4000),
    calendar: Number(process.env.CALENDAR_PORT ?? 4001),
    mine: Number(process.env.MINE_PORT ?? 3000),
  },
  accessTokenTtlSeconds,
  env: process.env,
});
console.log(`Gatehouse (authorization server): ${demo.urls.gatehouse}`);
console.log(`Calendar API (resource server):   ${demo.urls.calendar}`);
console.log(`Mine (the client app):            ${demo.urls.mine}   ← open this`);
console.log(`Demo user: ${demo.demoUser.username} / ${demo.demoUser.password}`);
console.log(`Access tokens live ${accessTokenTtlSeconds} seconds here, so you can watch Mine refresh them. Press Ctrl-C to stop.`);
const shutdown = () => {
  console.log('Stopping…');
  void demo.stop().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
