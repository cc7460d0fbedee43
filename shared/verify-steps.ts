/**
 * How a verification run records its steps and turns its outcome into a {@link VerifyResult}: the
 * step list, the first failure ending the run, and the decoding of the input (text, bytes or a
 * parsed value) under a size limit. Pure TypeScript, like the verifier in verify.ts.
 */
import { fromUtf8 } from './bytes.js';

/** Proof texts above this size are refused before parsing (a genuine bundle is a few KiB). */
export const MAX_PROOF_TEXT_BYTES = 16 * 1024 * 1024;

export type VerifyStepName =
  | 'format'
  | 'genesis'
  | 'header'
  | 'signature'
  | 'inclusion'
  | 'chunk'
  | 'ancestry'
  | 'consistency'
  | 'anchor'
  | 'chain';

/** One verification step, in the order run. Optional parts (chunk, ancestry) appear only when present. */
export interface VerifyStep {
  readonly step: VerifyStepName;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * What is known of the chain anchor: `none` (the document carries none, so the checkpoint is trusted
 * on its signature alone), `unchecked` (it carries a receipt whose checkpoint, signature and
 * consistency were checked, but the chain was not asked), `verified` (the chain holds it).
 */
export type AnchorVerdict = 'none' | 'unchecked' | 'verified';

/**
 * The verdict on one document. Steps stop at the first failure, whose detail is also in `reason`
 * as `"<step>: <what was wrong>"`. The last step is always `anchor` (or `chain` after it, when the
 * chain was asked), saying what `anchor` means for this document.
 */
export interface VerifyResult {
  readonly valid: boolean;
  /** The document's format (`pakit-proof`…), or `unknown` when `verifyAny` could not tell. */
  readonly format: string;
  readonly reason?: string;
  readonly steps: VerifyStep[];
  readonly anchor: AnchorVerdict;
}

const NO_ANCHOR_DETAIL = 'the document carries no chain anchor: the checkpoint is trusted on its signature alone';
const MAX_DETAIL = 400;

export class StepFailure {
  constructor(
    readonly step: VerifyStepName,
    readonly detail: string,
  ) {}
}

/** Records steps; `check` ends the run at the first failure. */
export class Steps {
  readonly list: VerifyStep[] = [];
  current: VerifyStepName = 'format';
  anchor: AnchorVerdict = 'none';

  constructor(public format: string) {}

  begin(step: VerifyStepName): void {
    this.current = step;
  }

  check(cond: boolean, detail: string): void {
    if (!cond) throw new StepFailure(this.current, detail);
  }

  ok(detail: string): void {
    this.list.push({ step: this.current, ok: true, detail });
  }
}

export function clip(s: string): string {
  return s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s;
}

export function describe(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'unprintable error';
  }
}

/** UTF-8 length of `s`, counting no further than needed to know it exceeds `limit`. */
function utf8LengthExceeds(s: string, limit: number): boolean {
  if (s.length > limit) return true;
  if (s.length * 3 <= limit) return false;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3; // a surrogate pair counts 3 + 3, over by 2: only ever stricter
    if (n > limit) return true;
  }
  return false;
}

/** Turns text, bytes or an already-decoded value into a JSON value, refusing oversized texts. */
export function decodeInput(input: unknown, s: Steps): unknown {
  if (typeof input === 'string') {
    s.check(!utf8LengthExceeds(input, MAX_PROOF_TEXT_BYTES), `text is larger than ${MAX_PROOF_TEXT_BYTES} bytes`);
    return parseJsonText(input, s);
  }
  if (input instanceof Uint8Array) {
    s.check(input.length <= MAX_PROOF_TEXT_BYTES, `text is larger than ${MAX_PROOF_TEXT_BYTES} bytes`);
    let text: string;
    try {
      text = fromUtf8(input);
    } catch {
      throw new StepFailure('format', 'text is not valid UTF-8');
    }
    return parseJsonText(text, s);
  }
  return input;
}

function parseJsonText(text: string, s: Steps): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return s.check(false, `not valid JSON (${describe(e)})`);
  }
}

/** Runs `body` and turns its outcome — success, a failed step or any exception — into a result. */
export function run(format: string, body: (s: Steps) => void): VerifyResult {
  const s = new Steps(format);
  try {
    body(s);
    if (s.anchor === 'none') {
      s.begin('anchor');
      s.ok(NO_ANCHOR_DETAIL);
    }
    return { valid: true, format: s.format, steps: s.list, anchor: s.anchor };
  } catch (e) {
    const f = e instanceof StepFailure ? e : new StepFailure(s.current, `unexpected error: ${describe(e)}`);
    const detail = clip(f.detail);
    s.list.push({ step: f.step, ok: false, detail });
    return { valid: false, format: s.format, reason: `${f.step}: ${detail}`, steps: s.list, anchor: s.anchor };
  }
}
