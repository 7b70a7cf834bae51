/**
 * The Slurm commands the head uses, run politely: `sbatch` calls are spaced at least `minIntervalMs`
 * apart and retried with exponential backoff when they fail (a controller that is busy or restarting
 * answers with an error for a while); job states come from one `squeue` call for all of a run's jobs;
 * `scancel` ends jobs. Commands are found on PATH, and talk to the cluster `SLURM_CONF` names.
 */
import { execFile, execFileSync } from "node:child_process";

export interface SlurmClientOptions {
  /** The least time between two `sbatch` calls. */
  minIntervalMs: number;
  /** How many times an `sbatch` call is tried before its error is the run's. */
  attempts: number;
  /** The wait after the first failed try; doubled after each further one. */
  backoffMs: number;
}

export const DEFAULT_SLURM_CLIENT: SlurmClientOptions = { minIntervalMs: 100, attempts: 5, backoffMs: 250 };

/** A job's (or an array element's) state as squeue reports it. */
export interface JobState {
  state: string;
  reason: string;
}

/** States in which a job may still write results. */
const ACTIVE = new Set(["PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED"]);

export function isActive(state: string): boolean {
  return ACTIVE.has(state);
}

/** `sbatch` failed on every try: what the run reports. */
export class SbatchError extends Error {}

export class SlurmClient {
  private lastSbatch = 0;
  /** How many `sbatch` calls were made (tries that failed included). */
  sbatchCalls = 0;

  constructor(private readonly options: SlurmClientOptions = DEFAULT_SLURM_CLIENT) {}

  /** Submits `script` with `args`; returns the job id. Throws SbatchError once every try failed. */
  async sbatch(args: readonly string[], script: string): Promise<string> {
    let lastError = "";
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      await this.spaced();
      this.sbatchCalls++;
      try {
        const out = await run("sbatch", ["--parsable", ...args, script]);
        const id = out.trim().split(";")[0]!;
        if (/^\d+$/.test(id)) return id;
        lastError = `sbatch printed ${JSON.stringify(out.trim())}, not a job id`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (attempt < this.options.attempts) await delay(this.options.backoffMs * 2 ** (attempt - 1));
    }
    throw new SbatchError(`sbatch failed ${this.options.attempts} times; the last error: ${lastError}`);
  }

  /**
   * The states of `jobIds`' jobs and array elements (`123_4`), from one squeue call. A job Slurm has
   * forgotten (it ended a while ago) is not in the answer.
   */
  async states(jobIds: readonly string[]): Promise<Map<string, JobState>> {
    const states = new Map<string, JobState>();
    if (jobIds.length === 0) return states;
    let out: string;
    try {
      out = await run("squeue", ["--noheader", "--states=all", "--array", "--format=%i|%T|%r", `--jobs=${jobIds.join(",")}`]);
    } catch (err) {
      // Every job named is unknown: squeue refuses the list.
      if (/Invalid job id/i.test((err as Error).message)) return states;
      throw err;
    }
    for (const line of out.split("\n")) {
      const [id, state, reason] = line.trim().split("|");
      if (id && state) states.set(id, { state, reason: reason ?? "" });
    }
    return states;
  }

  /** Cancels jobs, synchronously (an interrupted head may exit right after). */
  cancelNow(jobIds: readonly string[]): void {
    if (jobIds.length === 0) return;
    try {
      execFileSync("scancel", [...jobIds], { stdio: "ignore", timeout: 30_000 });
    } catch {
      // a job that already ended: nothing to cancel
    }
  }

  /** What `scontrol show job` says of a job that ended: its state and reason (for a summary). */
  async ending(jobId: string): Promise<JobState | undefined> {
    try {
      const out = await run("scontrol", ["show", "job", jobId]);
      const state = /JobState=(\S+)/.exec(out)?.[1];
      const reason = /Reason=(\S+)/.exec(out)?.[1] ?? "";
      return state === undefined ? undefined : { state, reason };
    } catch {
      return undefined;
    }
  }

  private async spaced(): Promise<void> {
    const wait = this.lastSbatch + this.options.minIntervalMs - Date.now();
    if (wait > 0) await delay(wait);
    this.lastSbatch = Date.now();
  }
}

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const said = (stderr || err.message).trim();
      reject(new Error(said.startsWith(`${command}:`) ? said : `${command}: ${said}`));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
