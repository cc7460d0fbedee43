/** How much stream input the pool sends ahead of what the worker has copied out. */
export const STREAM_WINDOW = 8 * 2 ** 20;
/** Small pieces of stream input are gathered into messages of this size. */
export const STREAM_PIECE = 2 ** 20;

/** What the feeder needs of a stream job (the ingest pool's Job). */
export interface FedJob {
  /** Ended (done, failed or aborted): nothing more is sent. */
  readonly settled: boolean;
  /** Bytes sent and not yet consumed by the worker (the pool lowers it as `consumed` messages come). */
  inflight: number;
  /** Set while the feeder waits for the worker to consume; the pool calls it when it has, or ends the job. */
  wakeFeeder?: () => void;
}

/**
 * Pushes a stream job's input to its worker: small pieces gathered into STREAM_PIECE messages,
 * larger ones sent as they are (copied, so the buffer can be transferred), never more than
 * STREAM_WINDOW bytes ahead of what the worker consumed. `send` posts one piece (its buffer to be
 * transferred), `end` the end of the input; a source that throws goes to `fail`.
 */
export async function feedStream(
  job: FedJob,
  source: AsyncIterable<Uint8Array>,
  send: (buf: ArrayBuffer, length: number) => void,
  end: () => void,
  fail: (e: unknown) => void,
): Promise<void> {
  let piece = new Uint8Array(STREAM_PIECE);
  let used = 0;
  const sendBytes = async (bytes: Uint8Array): Promise<boolean> => {
    while (!job.settled && job.inflight > 0 && job.inflight + bytes.length > STREAM_WINDOW)
      await new Promise<void>((resolve) => (job.wakeFeeder = resolve));
    if (job.settled) return false;
    job.inflight += bytes.length;
    send(bytes.buffer as ArrayBuffer, bytes.length);
    return true;
  };
  const sendPiece = async (): Promise<boolean> => {
    const full = piece.subarray(0, used);
    piece = new Uint8Array(STREAM_PIECE);
    used = 0;
    return sendBytes(full);
  };
  try {
    for await (const bytes of source) {
      if (job.settled) return;
      if (used > 0 && used + bytes.length > STREAM_PIECE && !(await sendPiece())) return;
      if (bytes.length >= STREAM_PIECE) {
        // A copy we own and can transfer (not `slice`, which is a view for a Buffer).
        if (!(await sendBytes(new Uint8Array(bytes)))) return;
      } else {
        piece.set(bytes, used);
        used += bytes.length;
      }
    }
    if (used > 0 && !(await sendPiece())) return;
    if (!job.settled) end();
  } catch (e) {
    fail(e);
  }
}
