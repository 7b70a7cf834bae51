/**
 * `quanta watch PIPELINE`: runs what is stale, then reruns what each change makes stale, until Ctrl-C,
 * SIGTERM or `q`.
 *
 * The driver of the loop of src/core/watch-loop.ts: it feeds the state machine the file watcher's
 * changes, its one timer and the ends of passes, and carries out what it says. A pass is a run of the
 * session (run-session.ts), which keeps the repository, the executor with its workers and spawner, and
 * the writer lock from the first pass to the last, and ingests only the paths the watcher reported.
 *
 * An edit that breaks the pipeline (a YAML or schema error, a task module that does not compile, a
 * relation file that does not parse) is reported as a `watch-error` with its location; the watch goes
 * on, and the next change that fixes it runs a pass. The watched files are worked out again after each
 * pass in which the pipeline file, a file it imports or a task module changed, and after each pass
 * while the pipeline does not load; after a pass that failed too, since the file that fixes it may be
 * one the last pipeline that loaded did not name (a new task module that does not compile, a new
 * relation file not written yet, the pipeline file itself put back).
 */
import { dirname, join, resolve } from "node:path";
import { QuantaError } from "../core/errors.js";
import { stampEvent } from "../core/events.js";
import { firstPass, stepWatch, type WatchAction, type WatchInput, type WatchState } from "../core/watch-loop.js";
import { loadPipeline } from "../app/load-pipeline.js";
import { RunSession, type ExecFlags, type OutputFlags, type RunRequest } from "../app/run-session.js";
import { stopOnInterrupt, INTERRUPTED_EXIT_CODE } from "../app/interrupts.js";
import { ChokidarWatcher, stampOf, type FileChangeKind, type FileWatcher, type WatchTargets } from "./file-watcher.js";
import { watchTargets } from "./watch-targets.js";
import { RepositoryServer, type ReplyChannel } from "./repository-server.js";
import type { ServerRequest } from "../core/server-protocol.js";
import { parseParameterFlags } from "../core/parse-parameter-flag.js";

export interface WatchRequest extends RunRequest {
  repoRoot: string;
  exec: ExecFlags;
  output: OutputFlags;
  /** Quiet time after the last change before a pass starts. */
  debounceMs: number;
}

export async function watchPipeline(req: WatchRequest): Promise<number> {
  const session = await RunSession.open({ repoRoot: req.repoRoot, exec: req.exec, output: req.output, command: "quanta watch" });
  const watch = new WatchDriver(req, session);
  let server: RepositoryServer | undefined;
  try {
    server = await RepositoryServer.listen(session.repoRoot, (request, channel) => watch.serve(request, channel));
    return await watch.run();
  } finally {
    await server?.close();
    await watch.close();
    await session.close();
  }
}

class WatchDriver {
  private state: WatchState = { kind: "idle" };
  private timer: NodeJS.Timeout | undefined;
  private readonly watcher: FileWatcher;
  /** The files of the pipeline itself (pipeline file, imports, task modules): a change reloads the targets. */
  private pipelineFiles = new Set<string>();
  private targetsStale = true;
  private exited: (() => void) | undefined;
  private failure: unknown;
  /** The pass or served run in hand (they take turns on the session), settled when it ends. */
  private turn: Promise<void> = Promise.resolve();

  constructor(
    private readonly req: WatchRequest,
    private readonly session: RunSession,
  ) {
    this.watcher = new ChokidarWatcher((change) => {
      if (change.kind !== "changed" || !this.fedAlready(change.path)) this.changed(change.path, change.kind);
    });
  }

  /** Watches, runs the first pass, and follows changes until told to quit; the exit code. */
  async run(): Promise<number> {
    await this.updateTargets();
    const quit = stopOnInterrupt();
    quit.signal.addEventListener("abort", () => this.feed({ kind: "quit", at: Date.now() }), { once: true });
    const keys = listenForQuitKey(() => this.feed({ kind: "quit", at: Date.now() }));
    const done = new Promise<void>((resolve) => (this.exited = resolve));
    try {
      this.apply(firstPass());
      await done;
    } finally {
      keys.dispose();
      quit.dispose();
      clearTimeout(this.timer);
    }
    if (this.failure !== undefined) throw this.failure;
    return 0;
  }

  /** Waits for the pass or served run in hand, then stops watching. */
  async close(): Promise<void> {
    await this.turn;
    await this.watcher.close();
  }

  /**
   * Runs a request of another process's `quanta run` (repository-server.ts) on the session, between
   * passes, sending its events back. The command hanging up stops it. A signal of the watch's own
   * that stops it (Ctrl-C in the watch's terminal) ends the watch too, as during a pass.
   */
  serve(request: ServerRequest, channel: ReplyChannel): Promise<void> {
    if (request.command === "status") return Promise.resolve(this.statusFromMemory(request, channel));
    return this.takeTurn(async () => {
      if (channel.gone.aborted) return;
      const hangUp = () => this.session.stop("SIGINT");
      channel.gone.addEventListener("abort", hangUp, { once: true });
      try {
        const result = await this.session.run(request.request, { emit: (event) => channel.send({ reply: "event", event }) });
        channel.send({ reply: "exit", code: result.exitCode });
        if (result.exitCode === INTERRUPTED_EXIT_CODE && !channel.gone.aborted) this.feed({ kind: "quit", at: Date.now() });
      } catch (err) {
        // The command prints the error and exits with its code, as it would have standalone.
        const e = err instanceof QuantaError ? err : new QuantaError(`internal error in the watch: ${err instanceof Error ? err.message : String(err)}`, 70);
        channel.send({ reply: "error", message: e.message, exitCode: e.exitCode, ...(e.hint === undefined ? {} : { hint: e.hint }) });
      } finally {
        channel.gone.removeEventListener("abort", hangUp);
      }
    });
  }

  /** Answers a `status` request from memory when the watch is idle and knows the answer; else `unknown`. */
  private statusFromMemory(request: ServerRequest, channel: ReplyChannel): void {
    const events = this.state.kind === "idle" ? this.session.statusFromMemory(request.request) : undefined;
    if (events === undefined) {
      channel.send({ reply: "unknown" });
      return;
    }
    for (const body of events) channel.send({ reply: "event", event: stampEvent(body, Date.now()) });
    channel.send({ reply: "exit", code: 0 });
  }

  /** Runs `go` once the pass or served run in hand has ended. */
  private takeTurn(go: () => Promise<void>): Promise<void> {
    const mine = this.turn.then(go);
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  /**
   * Whether the watcher reports a change the watch fed itself after a pass (a raw input found changed
   * under a command): the file is as it was then. Such a report supersedes nothing (RunSession.supersede
   * finds the file as its ingest recorded it); dropping it saves the empty pass it would start.
   */
  private fedAlready(path: string): boolean {
    if (!this.fed.has(path)) return false;
    if (this.fed.get(path) === stampOf(path)) return true;
    this.fed.delete(path);
    return false;
  }

  /** The files fed as changed after a pass, with their stamps then (`fedAlready`). */
  private readonly fed = new Map<string, string | undefined>();

  private changed(path: string, kind: FileChangeKind): void {
    this.kinds.set(path, mergeKinds(this.kinds.get(path), kind));
    this.feed({ kind: "changed", paths: [path], at: Date.now() });
  }

  private feed(input: WatchInput): void {
    this.apply(stepWatch(this.state, input, this.req.debounceMs));
  }

  private apply(step: { state: WatchState; actions: WatchAction[] }): void {
    this.state = step.state;
    for (const action of step.actions) this.act(action);
  }

  private act(action: WatchAction): void {
    switch (action.kind) {
      case "set-timer":
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.feed({ kind: "timer", at: Date.now() }), Math.max(0, action.at - Date.now()));
        return;
      case "start-pass":
        void this.takeTurn(() => this.pass(action.paths));
        return;
      case "cancel-stale":
        // The quanta that read a file changed again stop (or never start); the next pass, which follows
        // at once, redoes them. The others finish.
        this.session.supersede(action.paths);
        return;
      case "stop-pass":
        this.session.stop("SIGINT");
        return;
      case "exit":
        this.exited?.();
        return;
      default: {
        const never: never = action;
        throw new Error(`internal error: ${JSON.stringify(never)}`);
      }
    }
  }

  /** One pass: a run of the session over the changed paths (none: the first, everything stale). */
  private async pass(paths: string[]): Promise<void> {
    if (paths.length > 0) {
      this.session.report({ event: "watch-changed", paths, changes: this.takeChanges(paths) });
      this.lastChange = { paths: paths.slice(0, CHANGES_SHOWN), more: Math.max(0, paths.length - CHANGES_SHOWN), time: Date.now() };
    }
    let interrupted = false;
    let why: string[] = [];
    try {
      if (paths.some((p) => this.pipelineFiles.has(p))) this.targetsStale = true;
      const pass = { changedBefore: this.changedUnder };
      const result = await this.session.run(this.req, paths.length > 0 ? { changedPaths: paths, pass } : { pass }).catch((err: unknown) => {
        if (this.report(err)) return undefined;
        throw err;
      });
      if (result !== undefined) {
        why = this.session.lastReasons.map((r) => `${r.dataId === "" ? r.task : `${r.task}@${r.dataId}`}: ${r.reasons.join("; ")}`);
        interrupted = result.exitCode === INTERRUPTED_EXIT_CODE;
      }
      // Raw inputs found changed under a command: the next pass, which redoes the quanta left to it,
      // follows whether or not the watcher saw the change (a write from another host of a shared file system).
      const under = this.session.lastChangedUnder;
      this.changedUnder = new Set([...under.superseded, ...under.failed]);
      for (const path of under.superseded) {
        this.fed.set(path, stampOf(path));
        this.changed(path, "changed");
      }
      // After a pass that failed too: the file that fixes it may be one the watch does not watch yet.
      if (this.targetsStale && !interrupted) await this.updateTargets();
    } catch (err) {
      this.failure = err;
      interrupted = true;
    }
    if (this.state.kind === "running" && this.state.pending.size === 0) {
      const lastChange = this.lastChange === undefined ? {} : { lastChange: this.lastChange };
      this.session.report({ event: "watch-waiting", paths: this.watcher.watchedCount, ...lastChange, ...(why.length > 0 ? { why } : {}) });
    }
    // Ctrl-C during a pass stopped it (the pass's own interrupt): the watch ends too.
    if (interrupted) this.feed({ kind: "quit", at: Date.now() });
    this.feed({ kind: "pass-finished", at: Date.now() });
  }

  /** Reports an error of the user's (a broken edit, a repository problem) as a `watch-error`; false for a bug. */
  private report(err: unknown): boolean {
    if (!(err instanceof QuantaError)) return false;
    this.session.report({ event: "watch-error", message: err.hint ? `${err.message}\nhint: ${err.hint}` : err.message });
    return true;
  }

  /**
   * Loads the pipeline to learn what to watch. A pipeline that does not load is watched for its fix:
   * what the last one that loaded named, and every file this load got to (onFile of loadPipeline): a
   * pipeline file or import that is missing (watched for its return), a task module that is missing
   * or does not compile, new ones included. Relation files are not among them: they are read after the
   * load, so none can fix it, and once it loads they are watched.
   */
  private async updateTargets(): Promise<void> {
    const reached = new Set<string>([resolve(this.req.pipelineFile)]);
    let targets: WatchTargets;
    try {
      const parameters = parseParameterFlags(this.req.flags.params ?? []);
      const onFile = (path: string) => reached.add(path);
      const loaded = await loadPipeline(this.req.pipelineFile, { config: this.req.flags.config, parameters, moduleCacheDir: join(this.req.repoRoot, "modules"), onFile });
      targets = this.lastTargets = watchTargets(loaded);
      this.pipelineFiles = new Set(loaded.files);
      this.targetsStale = false;
    } catch (err) {
      if (!(err instanceof QuantaError)) throw err;
      // The pass reports the error. The files of the pipeline are kept until one loads again, so that a
      // file named only by an earlier broken version (perhaps edited back) is still watched. Before
      // anything loaded, the pipeline file's whole folder is watched too (a module's local import that
      // does not compile is in it, somewhere).
      for (const path of reached) this.pipelineFiles.add(path);
      const last = this.lastTargets ?? { directories: [dirname(resolve(this.req.pipelineFile))], files: [] };
      targets = { directories: last.directories, files: [...new Set([...last.files, ...this.pipelineFiles])] };
      this.targetsStale = true;
    }
    await this.watcher.watch({ ...targets, excluded: [resolve(this.req.repoRoot)] });
  }

  /** What the last pipeline that loaded makes the watch watch. */
  private lastTargets: WatchTargets | undefined;
  /** The change the last pass read, as `watch-waiting` shows it. */
  private lastChange: { paths: string[]; more: number; time: number } | undefined;
  /** The raw input files the last pass found changed under its commands (RunOptions.pass). */
  private changedUnder: ReadonlySet<string> = new Set();
  /** How each path changed since the pass that last read it. */
  private readonly kinds = new Map<string, FileChangeKind>();

  /** The changes of these paths, and forgets them (the pass about to start reads them). */
  private takeChanges(paths: readonly string[]): { path: string; kind: FileChangeKind }[] {
    return paths.map((path) => {
      const kind = this.kinds.get(path) ?? "changed";
      this.kinds.delete(path);
      return { path, kind };
    });
  }
}

/** How many changed paths `watch-waiting` names. */
const CHANGES_SHOWN = 3;

/** A path seen changing twice before a pass: made and then edited is still new; made and then removed is gone. */
function mergeKinds(before: FileChangeKind | undefined, now: FileChangeKind): FileChangeKind {
  if (before === "added" && now === "changed") return "added";
  if (before === "removed" && now === "added") return "changed";
  return now;
}

/**
 * On a terminal, `q` (or Ctrl-C, which a terminal in raw mode sends as a byte instead of a signal)
 * quits. The terminal is put back as it was on `dispose`.
 */
function listenForQuitKey(quit: () => void): { dispose(): void } {
  const stdin = process.stdin;
  if (!stdin.isTTY) return { dispose() {} };
  const onData = (data: Buffer) => {
    if (data.includes(0x71) || data.includes(0x03)) quit();
  };
  stdin.setRawMode(true);
  stdin.on("data", onData);
  stdin.resume();
  return {
    dispose() {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    },
  };
}
