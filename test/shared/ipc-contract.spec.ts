import { describe, expect, it } from 'vitest';
import { dispatch, METHODS, requestSchemas, type Handlers } from '../../shared/ipc-contract.js';

/** Handlers that record what reached them, so a test can see a bad payload never did. */
function recording() {
  const calls: [string, unknown][] = [];
  const handlers = Object.fromEntries(
    METHODS.map((m) => [
      m,
      (req: unknown) => {
        calls.push([m, req]);
        if (m === 'archive.stats')
          throw Object.assign(new Error('disk on fire'), { name: 'DiskError', code: 'ERR_DISK' });
        return m === 'sync.versions' ? [] : null;
      },
    ]),
  ) as unknown as Handlers;
  return { calls, handlers };
}

const HASH = 'ab'.repeat(32);

describe('IPC contract', () => {
  it('passes a valid payload to its handler and wraps the value', async () => {
    const { calls, handlers } = recording();
    expect(await dispatch(handlers, 'archive.proof', { hash: HASH, chunk: 3 })).toEqual({ ok: true, value: null });
    expect(await dispatch(handlers, 'sync.versions', { path: 'a/b.txt' })).toEqual({ ok: true, value: [] });
    expect(calls).toEqual([
      ['archive.proof', { hash: HASH, chunk: 3 }],
      ['sync.versions', { path: 'a/b.txt' }],
    ]);
  });

  it.each([
    ['archive.proof', { hash: 'xyz' }, /archive\.proof: hash: expected 64 hex digits/],
    ['archive.proof', { hash: HASH, chunk: -1 }, /archive\.proof: chunk/],
    ['archive.proof', { hash: HASH, chunk: 1.5 }, /archive\.proof: chunk/],
    ['archive.proof', {}, /archive\.proof: hash/],
    ['sync.versions', { path: '' }, /sync\.versions: path/],
    ['sync.versions', { path: 'x'.repeat(5000) }, /sync\.versions: path/],
    ['sync.pause', { reason: 7 }, /sync\.pause: reason/],
    ['archive.storePaths', { paths: [] }, /archive\.storePaths: paths/],
    ['archive.storePaths', { paths: [''] }, /archive\.storePaths: paths\.0/],
    ['sync.restore', { path: 'a.txt', hash: 'zz' }, /sync\.restore: hash/],
    ['node.status', { extra: true }, /node\.status: payload: Unrecognized key/],
    ['node.status', 'not an object', /node\.status: payload/],
  ])('refuses %s with %j, naming the field, without calling the handler', async (method, payload, message) => {
    const { calls, handlers } = recording();
    const r = await dispatch(handlers, method, payload);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.name).toBe('InvalidRequestError');
      expect(r.error.code).toBe('ERR_INVALID_REQUEST');
      expect(r.error.message).toMatch(message);
    }
    expect(calls).toEqual([]);
  });

  it('refuses unknown methods, including inherited property names', async () => {
    const { calls, handlers } = recording();
    for (const m of ['nope', 'toString', '__proto__', 'constructor', 42, null]) {
      const r = await dispatch(handlers, m, {});
      expect(r).toMatchObject({ ok: false, error: { name: 'UnknownMethodError', code: 'ERR_UNKNOWN_METHOD' } });
    }
    expect(calls).toEqual([]);
  });

  it('turns a thrown error into an envelope with its name, code and message', async () => {
    const { handlers } = recording();
    expect(await dispatch(handlers, 'archive.stats', {})).toEqual({
      ok: false,
      error: { name: 'DiskError', code: 'ERR_DISK', message: 'disk on fire' },
    });
  });

  it('lists every method that has a schema, once', () => {
    expect([...METHODS].sort()).toEqual(Object.keys(requestSchemas).sort());
  });
});
