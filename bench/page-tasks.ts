// The page's main-thread tasks from a Chromium trace, with their wall time (what the Long Tasks API
// reports) and the thread's own CPU time. On a shared 2-core machine a task's wall time includes
// the time its thread waited for a core, so two runs compare by CPU time when their load differs.

/** The fields of a trace event (Chrome's Trace Event Format) read here. */
interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
  readonly tdur?: number;
  readonly cat?: string;
  readonly args?: { readonly name?: string; readonly data?: { readonly documentLoaderURL?: string } };
}

/** One task of the page's main thread, in ms (`at` from the page's navigation start). */
export interface PageTask {
  readonly at: number;
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * The categories `pageTasks` needs: tasks with thread time, navigation, marks, and script evaluation
 * (`EvaluateScript`, which marks Playwright's injected scripts, is in the disabled-by-default one).
 */
export const PAGE_TASK_CATEGORIES = [
  'toplevel',
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'blink.user_timing',
  'loading',
];

/**
 * Tasks of the main thread of the page loaded from `url`, and the times of its `performance.mark`s.
 * Left out: the navigation's commit (before the page exists) and Playwright's own injected scripts
 * (`EvaluateScript`: the page's code runs as module evaluation and function calls).
 */
export function pageTasks(trace: Buffer, url: string): { tasks: PageTask[]; marks: Map<string, number> } {
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
  const nav = events.find((e) => e.name === 'navigationStart' && e.args?.data?.documentLoaderURL?.startsWith(url));
  if (!nav) throw new Error(`no navigation to ${url} in the trace`);
  const main = events.find(
    (e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === nav.pid && e.args?.name === 'CrRendererMain',
  );
  if (!main) throw new Error('no renderer main thread in the trace');
  const own = events.filter((e) => e.pid === nav.pid && e.tid === main.tid && e.ph === 'X');
  const foreign = own.filter((e) => e.name === 'EvaluateScript' || e.name === 'DocumentLoader::CommitNavigation');
  const ms = (us: number): number => us / 1000;
  const tasks = own
    .filter((e) => e.name === 'ThreadControllerImpl::RunTask' && e.ts >= nav.ts)
    .filter((e) => !foreign.some((f) => f.ts >= e.ts && f.ts < e.ts + (e.dur ?? 0)))
    .map((e) => ({ at: ms(e.ts - nav.ts), wallMs: ms(e.dur ?? 0), cpuMs: ms(e.tdur ?? 0) }));
  const marks = new Map(
    events
      .filter((e) => e.pid === nav.pid && e.ph === 'I' && e.cat?.includes('blink.user_timing'))
      .map((e) => [e.name, ms(e.ts - nav.ts)] as const),
  );
  return { tasks, marks };
}

/** The task that used the most CPU between two times, or undefined. */
export function busiestTask(tasks: readonly PageTask[], from: number, to: number): PageTask | undefined {
  return tasks
    .filter((t) => t.at >= from && t.at < to)
    .reduce<PageTask | undefined>((a, t) => (a === undefined || t.cpuMs > a.cpuMs ? t : a), undefined);
}
