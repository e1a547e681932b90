/**
 * Builds the deployed handlers and the floor handler with the stack's own esbuild configuration
 * (lib/bundling.ts, the one NodejsFunction uses), into .bench/<name>/index.mjs.
 */
import { build } from 'esbuild';
import { statSync } from 'node:fs';
import path from 'node:path';
import { ROUTES } from '../../lambda/contract';
import { esbuildOptionsFor } from '../../lib/bundling';

export const PROJECT_ROOT = path.resolve(__dirname, '../..');
export const BENCH_DIR = path.join(PROJECT_ROOT, '.bench');
export const FLOOR_ENTRY = 'bench/poll/floor-handler.ts';

export interface BuiltBundle {
  name: string;
  entry: string;
  /** Absolute path of index.mjs. */
  file: string;
  bytes: number;
  mapBytes: number;
}

async function buildOne(name: string, entry: string): Promise<BuiltBundle> {
  const file = path.join(BENCH_DIR, name, 'index.mjs');
  await build({ ...esbuildOptionsFor(path.join(PROJECT_ROOT, entry)), outfile: file, logLevel: 'warning' });
  return { name, entry, file, bytes: statSync(file).size, mapBytes: statSync(`${file}.map`).size };
}

/** Every route's bundle (by route id) and the floor bundle ('Floor'). */
export async function buildBundles(): Promise<Map<string, BuiltBundle>> {
  const targets = [...ROUTES.map((r) => [r.id, r.entry] as const), ['Floor', FLOOR_ENTRY] as const];
  const built = await Promise.all(targets.map(([name, entry]) => buildOne(name, entry)));
  return new Map(built.map((b) => [b.name, b]));
}
