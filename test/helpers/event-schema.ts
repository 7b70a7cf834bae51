/**
 * A zod schema of `QuantaEvent` (src/core/events.ts), for tests that read `--json` output: each line
 * must parse as exactly one member of the union, with no field the union does not declare (objects
 * are strict). Not shipped: the CLI never validates what it prints.
 *
 * `SchemaAgrees` below makes the schema and the TypeScript union agree at compile time (each is
 * assignable to the other); test/core/event-schema.test.ts compiles this file with tsc, so a field
 * added to one and not the other fails a test.
 */
import { z } from "zod";
import type { BlobDigest, CodeDigest, QuantumKey } from "../../src/core/digest.js";
import type { LineageNode, QuantaEvent } from "../../src/core/events.js";

const blobDigest = z.custom<BlobDigest>((v) => typeof v === "string" && /^[0-9a-f]{32}-\d+$/.test(v), "a blob digest");
const codeDigest = z.custom<CodeDigest>((v) => typeof v === "string" && /^[0-9a-f]{32}$/.test(v), "a code digest");
const quantumKey = z.custom<QuantumKey>((v) => typeof v === "string" && /^[0-9a-f]{32}$/.test(v), "a quantum key");
const count = z.number().int().nonnegative();

const stamp = { v: z.literal(1), time: z.number().int().positive() };
const quantumRef = { quantum: count, task: z.string(), dataId: z.string() };
const ref = z.strictObject(quantumRef);
const runCounts = { ran: count, upToDate: count, failed: count, blocked: count, noWork: count };
const taskCounts = z.strictObject({ task: z.string(), total: count, ...runCounts, durationMs: z.number().nonnegative(), startedAt: z.number().optional(), finishedAt: z.number().optional() });
const statusCounts = { willRun: count, mayRun: count, upToDate: count, blocked: count };
const ingestCounts = { added: count, changed: count, unchanged: count, removed: count };

const planWarning = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("empty-task"), task: z.string(), reason: z.string() }),
  z.strictObject({ kind: z.literal("below-minimum"), task: z.string(), connection: z.string(), minimum: count, dropped: count, example: z.string() }),
]);

const datasetAt = { connection: z.string(), type: z.string(), dataId: z.string() };
const reason = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("up-to-date") }),
  z.strictObject({ kind: z.literal("cached") }),
  z.strictObject({ kind: z.literal("new") }),
  z.strictObject({ kind: z.literal("code-changed"), before: codeDigest, after: codeDigest }),
  z.strictObject({ kind: z.literal("config-changed"), key: z.string(), before: z.unknown(), after: z.unknown() }),
  z.strictObject({ kind: z.literal("depends-changed"), name: z.string(), before: z.string().optional(), after: z.string().optional() }),
  z.strictObject({ kind: z.literal("forced") }),
  z.strictObject({ kind: z.literal("temp-needed"), type: z.string(), dataId: z.string(), consumer: z.string() }),
  z.strictObject({ kind: z.literal("input-changed"), ...datasetAt, before: blobDigest, after: blobDigest }),
  z.strictObject({ kind: z.literal("input-added"), ...datasetAt, digest: blobDigest }),
  z.strictObject({ kind: z.literal("input-removed"), ...datasetAt, digest: blobDigest }),
  z.strictObject({ kind: z.literal("output-missing"), connection: z.string(), type: z.string(), digest: blobDigest }),
  z.strictObject({ kind: z.literal("upstream-pending"), ...datasetAt, producer: z.string() }),
  z.strictObject({ kind: z.literal("previous-failure"), error: z.string() }),
  z.strictObject({ kind: z.literal("no-work"), reason: z.string() }),
  z.strictObject({ kind: z.literal("missing-input"), error: z.string() }),
  z.strictObject({ kind: z.literal("upstream-failed"), producer: z.string() }),
]);

const verdict = { quantum: z.string(), status: z.enum(["will-run", "may-run", "up-to-date", "blocked"]), reasons: z.array(reason) };

const lineageFields = {
  dataset: z.string(),
  digest: z.string(),
  source: z.string().optional(),
  quantum: z
    .strictObject({
      task: z.string(),
      dataId: z.string(),
      key: z.string(),
      codeDigest: z.string(),
      config: z.unknown(),
      host: z.string().optional(),
      startedAt: z.number().optional(),
      durationMs: z.number().optional(),
    })
    .optional(),
  get inputs(): z.ZodOptional<z.ZodArray<z.ZodType<LineageNode>>> {
    return z.array(lineageNode).optional();
  },
  seen: z.boolean().optional(),
  replacedBy: z.string().optional(),
};
const lineageNode: z.ZodType<LineageNode> = z.strictObject(lineageFields);

const execution = {
  id: z.string(),
  collection: z.string(),
  task: z.string(),
  dataId: z.string(),
  key: quantumKey,
  status: z.enum(["succeeded", "failed", "no-work"]),
  attempt: count,
  error: z.string().optional(),
  log: z.string(),
  inputs: z.array(z.strictObject({ ...datasetAt, digest: blobDigest })),
  outputs: z.array(z.strictObject({ ...datasetAt, digest: blobDigest, size: count })),
  config: z.unknown(),
  codeDigest,
  packages: z.record(z.string(), z.string()),
  host: z.string(),
  startedAt: z.number(),
  finishedAt: z.number(),
  durationMs: z.number().nonnegative(),
  peakRssBytes: z.number().optional(),
  reasons: z.array(reason).optional(),
};

const event = <N extends string, S extends z.ZodRawShape>(name: N, shape: S) => z.strictObject({ ...stamp, event: z.literal(name), ...shape });

export const quantaEventSchema = z.discriminatedUnion("event", [
  event("ingest-problem", { file: z.string(), line: count.optional(), message: z.string() }),
  event("ingest-finished", {
    ...ingestCounts,
    errors: count,
    collection: z.string(),
    byType: z.record(z.string(), z.strictObject(ingestCounts)),
    relations: z.array(z.strictObject({ name: z.string(), rows: count, status: z.enum(["added", "changed", "unchanged", "failed"]) })),
    filesSeen: count,
    filesHashed: count,
    bytesHashed: count,
    durationMs: count,
  }),
  event("graph-built", { pipeline: z.string(), quanta: count, datasets: count, durationMs: count, tasks: z.array(z.strictObject({ task: z.string(), quanta: count })) }),
  event("plan-warning", { warning: planWarning, message: z.string() }),
  event("run-started", {
    pipeline: z.string(),
    collection: z.string(),
    repository: z.string().optional(),
    executor: z.enum(["in-process", "pool", "slurm"]),
    workers: count,
    tasks: z.array(z.strictObject({ task: z.string(), total: count })),
  }),
  event("quantum-started", { ...quantumRef, attempt: count, jobId: z.string().optional() }),
  event("quantum-finished", { ...quantumRef, durationMs: z.number().nonnegative(), noWork: z.boolean(), peakRssBytes: z.number().optional(), startedAt: z.number().optional(), jobId: z.string().optional() }),
  event("quantum-up-to-date", quantumRef),
  event("task-up-to-date", { task: z.string(), quanta: count }),
  event("quantum-failed", { ...quantumRef, attempt: count, error: z.string(), logTail: z.array(z.string()), durationMs: z.number().nonnegative(), startedAt: z.number().optional(), jobId: z.string().optional() }),
  event("quantum-retrying", { ...quantumRef, attempt: count, error: z.string() }),
  event("quantum-blocked", { ...quantumRef, blockedBy: ref }),
  event("task-finished", { counts: taskCounts }),
  event("run-finished", {
    pipeline: z.string(),
    collection: z.string(),
    counts: z.strictObject(runCounts),
    durationMs: z.number().nonnegative(),
    tasks: z.array(taskCounts),
    slowest: z.array(z.strictObject({ ...quantumRef, durationMs: z.number().nonnegative() })),
    exitCode: count,
    interrupted: z.strictObject({ signal: z.string(), stopped: z.array(ref), notStarted: count }).optional(),
    dropped: count.optional(),
    removed: count.optional(),
    superseded: count.optional(),
    slurm: z.strictObject({ sbatchCalls: count, jobs: count }).optional(),
  }),
  event("slurm-submitted", {
    jobId: z.string(),
    task: z.string(),
    jobs: count,
    quanta: count,
    sbatchCalls: count,
    tasks: z.record(z.string(), count),
    quantumIds: z.record(z.string(), z.array(count)),
  }),
  event("status", {
    pipeline: z.string(),
    collection: z.string(),
    repository: z.string().optional(),
    counts: z.strictObject(statusCounts),
    tasks: z.array(z.strictObject({ task: z.string(), total: count, ...statusCounts })),
    slurm: z.strictObject({ quanta: count, jobs: count, sbatchCalls: count, tasks: z.array(z.strictObject({ task: z.string(), sbatchCalls: count, jobs: count })) }).optional(),
  }),
  event("watch-waiting", {
    paths: count,
    lastChange: z.strictObject({ paths: z.array(z.string()), more: count, time: z.number() }).optional(),
    why: z.array(z.string()).optional(),
  }),
  event("watch-changed", { paths: z.array(z.string()), changes: z.array(z.strictObject({ path: z.string(), kind: z.enum(["added", "changed", "removed"]) })) }),
  event("watch-error", { message: z.string() }),
  event("why", { ...verdict, upstream: z.array(z.strictObject(verdict)) }),
  event("gc-finished", { dryRun: z.boolean(), blobsDeleted: count, blobsKept: count, tempFilesDeleted: count, bytesFreed: count, bytesKept: count, cacheEntriesDeleted: count, cacheEntriesKept: count, executionsDeleted: count }),
  event("blob-problem", { digest: blobDigest, status: z.enum(["missing", "corrupt", "changed"]), raw: z.literal(true).optional(), path: z.string(), referencedBy: z.array(z.string()) }),
  event("verify-finished", { blobs: count, references: count, bytes: count, missing: count, corrupt: count, changed: count }),
  event("verify-repaired", { quarantined: count, actionsDropped: count, quantaDropped: count }),
  event("dataset", { type: z.string(), dataId: z.record(z.string(), z.union([z.number(), z.string()])), digest: z.string(), size: count, collection: z.string() }),
  event("execution", execution),
  event("provenance", lineageFields),
  event("show", { what: z.enum(["pipeline", "config", "tasks", "dimensions"]), task: z.string().optional(), value: z.unknown() }),
]);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compiles only while the schema and the union agree (checked by test/core/event-schema.test.ts). */
export const SchemaAgrees: Same<z.infer<typeof quantaEventSchema>, QuantaEvent> = true;

/** Parses one `--json` line into an event of the union; throws, naming the line, when it is not one. */
export function parseEventLine(line: string): QuantaEvent {
  const parsed = quantaEventSchema.safeParse(JSON.parse(line));
  if (!parsed.success) throw new Error(`not a QuantaEvent: ${line}\n${z.prettifyError(parsed.error)}`);
  return parsed.data as QuantaEvent;
}

/** Every line of a command's stdout under `--json`, parsed (an empty output is no line). */
export function parseEventLines(stdout: string): QuantaEvent[] {
  return stdout
    .split("\n")
    .filter((l) => l !== "")
    .map(parseEventLine);
}
