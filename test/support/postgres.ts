import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL every machine here runs (trust auth, database `test`); override with the env. */
export const testPostgresUrl = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** `DATABASE_URL` for Gatehouse, confined to this schema. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty schema of its own for one test, so runs never see each other's rows. */
export async function createTestSchema(): Promise<TestSchema> {
  const name = `gh_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${name}`);
  return {
    name,
    url: `${testPostgresUrl}?schema=${name}`,
    drop: () => adminQuery(`DROP SCHEMA IF EXISTS ${name} CASCADE`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
