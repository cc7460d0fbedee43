import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_SETTINGS } from '../../bench/context.js';

const benchDir = join(import.meta.dirname, '../../bench');
const docs = readFileSync(join(import.meta.dirname, '../../docs/BENCHMARKS.md'), 'utf8');

/** Every `PAKIT_…` environment variable a bench module reads (env.X, process.env.X or envNumber('X', …)). */
function namesRead(): string[] {
  const names = new Set<string>();
  for (const f of readdirSync(benchDir).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(join(benchDir, f), 'utf8');
    for (const m of src.matchAll(/\benv\.(PAKIT_[A-Z0-9_]+)|envNumber\('(PAKIT_[A-Z0-9_]+)'/g))
      names.add(m[1] ?? m[2]!);
  }
  return [...names].sort();
}

// A run's JSON must say how it was run: a dag section of 30,000 blocks or two ingest pairs records
// that in its `env`, which lists BENCH_SETTINGS. And a reader finds each in the docs' table.
describe('bench: settings', () => {
  it('records and documents every environment variable the bench reads', () => {
    const read = namesRead();
    expect(read).toContain('PAKIT_BENCH_BLOCKS');
    expect([...BENCH_SETTINGS].sort()).toEqual(read);
    const table = docs.slice(0, docs.indexOf('\n## Run '));
    for (const name of read) expect(table, name).toContain(`| \`${name}\``);
  });
});
