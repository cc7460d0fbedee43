/**
 * Mutation testing for proof documents: every value, key and array element of a bundle is changed,
 * deleted or joined by an unknown key, one at a time. Each mutant must be refused with a reason that
 * names a plausible step, and nothing may throw.
 */
import { expect } from 'vitest';
import { type VerifyResult, type VerifyStepName, verifyAny } from '../../shared/verify.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];
interface Mutation {
  label: string;
  top: string;
  doc: Json;
}

const isObj = (v: Json): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (p: Path): string => p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('') || '(root)';

/** A copy of `doc` with `edit` applied to the container holding `path`'s last key. */
function edited(
  doc: Json,
  path: Path,
  edit: (parent: Json[] | { [k: string]: Json }, key: string | number) => void,
): Json {
  const copy = structuredClone(doc);
  let node: Json = copy;
  for (const k of path.slice(0, -1)) node = (node as Record<string | number, Json>)[k]!;
  edit(node as Json[] | { [k: string]: Json }, path[path.length - 1]!);
  return copy;
}

const flipHex = (s: string, i: number): string =>
  s.slice(0, i) + (parseInt(s[i]!, 16) ^ 1).toString(16) + s.slice(i + 1);

/** Changed values for one leaf: hex digits flipped, case and length broken, numbers nudged, types swapped. */
function changes(v: Json): [string, Json][] {
  const out: [string, Json][] = [];
  if (typeof v === 'string') {
    if (/^([0-9a-f]{2})+$/.test(v)) {
      for (const i of new Set([0, v.length >> 1, v.length - 1])) out.push([`digit ${i} flipped`, flipHex(v, i)]);
      if (/[a-f]/.test(v)) out.push(['uppercased', v.toUpperCase()]);
      out.push(['odd length', v.slice(0, -1)]);
    } else {
      out.push(['appended', `${v}x`]);
      if (v.length > 0) out.push(['emptied', '']);
    }
    out.push(['as number', 1]);
  } else if (typeof v === 'number') {
    out.push(['+1', v + 1], ['-1', v - 1], ['+0.5', v + 0.5], ['as string', String(v)], ['2^53', 2 ** 53]);
  } else if (Array.isArray(v)) {
    out.push(['as object', {}]);
    out.push(v.length > 0 ? ['last repeated', [...v, v[v.length - 1]!]] : ['junk added', ['00'.repeat(32)]]);
  } else if (isObj(v)) {
    out.push(['as array', []]);
  }
  out.push(['null', null]);
  return out;
}

/** Every mutation of every value, key and element in `doc`. */
export function mutations(doc: Json): Mutation[] {
  const out: Mutation[] = [];
  const push = (path: Path, what: string, d: Json): void => {
    out.push({ label: `${show(path)} ${what}`, top: String(path[0] ?? ''), doc: d });
  };
  const visit = (v: Json, path: Path): void => {
    if (path.length > 0) {
      for (const [what, nv] of changes(v))
        push(
          path,
          what,
          edited(doc, path, (p, k) => void ((p as Record<string | number, Json>)[k] = nv)),
        );
      push(
        path,
        'deleted',
        edited(doc, path, (p, k) => {
          if (Array.isArray(p)) p.splice(k as number, 1);
          else delete p[k as string];
        }),
      );
    }
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, [...path, i]));
    else if (isObj(v)) {
      for (const k of Object.keys(v)) {
        visit(v[k]!, [...path, k]);
        push(
          [...path, k],
          'key renamed',
          edited(doc, [...path, k], (p, kk) => {
            const o = p as { [k: string]: Json };
            o[`${kk}x`] = o[kk as string]!;
            delete o[kk as string];
          }),
        );
      }
      push(
        path,
        'unknown key added',
        edited(doc, [...path, 'unknownKey'], (p) => void ((p as { [k: string]: Json }).unknownKey = '')),
      );
    }
  };
  visit(doc, []);
  return out;
}

/** Which steps may fail when the named top-level field is damaged (never a later one). */
export const PLAUSIBLE: Record<string, Record<string, VerifyStepName[]>> = {
  'pakit-proof': {
    genesis: ['genesis'],
    block: ['header'],
    hash: ['header'],
    leafIndex: ['inclusion'],
    inclusion: ['inclusion'],
    checkpoint: ['genesis', 'signature'],
    chunk: ['chunk'],
    ancestry: ['ancestry'],
  },
  'pakit-multiproof': {
    genesis: ['genesis'],
    checkpoint: ['genesis', 'signature'],
    blocks: ['header', 'inclusion'],
    nodes: ['inclusion'],
  },
  'pakit-consistency': {
    genesis: ['genesis'],
    from: ['genesis', 'signature'],
    to: ['genesis', 'signature'],
    path: ['consistency'],
  },
};

export function mustFail(r: VerifyResult, label: string, allowed: readonly VerifyStepName[], bad: string[]): void {
  const failed = r.steps.find((s) => !s.ok);
  if (r.valid) bad.push(`${label}: accepted`);
  else if (!r.reason || !failed || !r.reason.startsWith(`${failed.step}: `))
    bad.push(`${label}: no reason (${r.reason})`);
  else if (!['format', ...allowed].includes(failed.step)) bad.push(`${label}: failed at ${r.reason}`);
  else if (r.steps.filter((s) => !s.ok).length !== 1 || r.steps[r.steps.length - 1] !== failed)
    bad.push(`${label}: steps go on after the failure`);
}

export function runMutations(
  doc: Json,
  verify: (d: unknown) => VerifyResult,
  format: string,
  optional: string[] = [],
): number {
  const bad: string[] = [];
  let n = 0;
  for (const m of mutations(doc)) {
    let r: VerifyResult;
    try {
      r = verify(m.doc);
    } catch (e) {
      bad.push(`${m.label}: threw ${String(e)}`);
      continue;
    }
    n++;
    if (optional.includes(m.label)) {
      if (!r.valid) bad.push(`${m.label}: an optional part removed should still verify (${r.reason})`);
      continue;
    }
    mustFail(r, m.label, PLAUSIBLE[format]![m.top] ?? [], bad);
    // The same document through verifyAny (dispatching on its format) gets the same verdict.
    if (n % 7 === 0 && verifyAny(m.doc).valid) bad.push(`${m.label}: verifyAny accepted`);
  }
  expect(bad.slice(0, 30)).toEqual([]);
  return n;
}

export function expectAllOk(r: VerifyResult, steps: VerifyStepName[]): void {
  expect(r.reason).toBeUndefined();
  expect(r.steps.map((s) => s.step)).toEqual(steps);
  for (const s of r.steps) {
    expect(s.ok).toBe(true);
    expect(s.detail.length).toBeGreaterThan(0);
  }
  expect(r.valid).toBe(true);
  expect(r.anchor).toBe('none');
}
