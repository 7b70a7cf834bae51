// Benchmark: what the live view costs a run of 10,000 trivial quanta, against `--json` to /dev/null.
//
//   npm run build && node bench/live-view.js [--quanta 10000] [--work-us 200] [--workers 8] [--rounds 5] [--failing]
//
// A simulated engine runs the quanta on `workers` slots: each quantum emits quantum-started, does a
// fixed amount of computation (calibrated to take `work-us` microseconds: the engine's own cost of a
// trivial quantum), emits quantum-finished, and yields to the event loop (as a real engine does between
// I/O), so the live view's redraw timer fires as it would in a real run. Each variant runs `rounds`
// times, interleaved; medians are compared. With `--failing`, every quantum fails instead, with a
// three-line log tail (issue 14, item 17: a task failing for each of 10,000 data IDs).
//   none  a reporter that drops every event (the engine alone)
//   json  the JSON-lines reporter writing to /dev/null (synchronous writes, like stdout to a file)
//   live  the ink live view drawing to a fake 100x40 terminal whose bytes go to /dev/null
//
// The figure that decides is CPU time (process.cpuUsage, all threads) per run, live / json: the
// engine's work is a fixed amount of computation, so on a busy machine CPU time stays comparable while
// wall time does not. Wall time and the time measured inside each reporter are printed too.
// Target (issue 6): live / json < 1.05.
import { openSync, writeSync } from "node:fs";
import { Writable } from "node:stream";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { parseArgs } from "node:util";

for (const key of Object.keys(process.env)) {
  // ink decides when it is loaded whether it runs in CI (where it draws only the last frame).
  if (key === "CI" || key === "CONTINUOUS_INTEGRATION" || key.startsWith("CI_")) delete process.env[key];
}
const { createJsonReporter } = await import("../dist/ui/json-reporter.js");
const { loadLiveView } = await import("../dist/ui/load-live-view.js");
const { createLiveReporter } = await loadLiveView();
const { stampEvent } = await import("../dist/core/events.js");

const { values } = parseArgs({
  options: {
    quanta: { type: "string", default: "10000" },
    "work-us": { type: "string", default: "200" },
    workers: { type: "string", default: "8" },
    rounds: { type: "string", default: "5" },
    failing: { type: "boolean", default: false },
  },
  strict: false, // bench/run.js passes its own flags (--quick, --big) to every benchmark
});
const QUANTA = Number(values.quanta);
const WORK_US = Number(values["work-us"]);
const WORKERS = Number(values.workers);
const ROUNDS = Number(values.rounds);
const FAILING = Boolean(values.failing);
const LOG_TAIL = ["reading the input", "warning: 3 pixels saturated", "error: no sources above 5 sigma"];
const TASKS = ["isr", "calibrate", "makeWarp", "coadd"];

const devNull = openSync("/dev/null", "w");
let bytes = 0;
function makeSink(tty) {
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      bytes += chunk.length;
      writeSync(devNull, chunk);
      callback();
    },
  });
  if (tty) Object.assign(sink, { isTTY: true, columns: 100, rows: 40 });
  return sink;
}

/** A fixed amount of computation; `calibrate` picks how many rounds take about `us` microseconds. */
let sink32 = 0;
function work(rounds) {
  let x = sink32 | 1;
  for (let i = 0; i < rounds; i++) x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + i;
  sink32 = x;
}
function calibrate(us) {
  // By CPU time, not wall time: on a busy machine, wall time counts other processes' turns too.
  let rounds = 1000;
  for (;;) {
    const before = process.cpuUsage();
    work(rounds);
    const spent = process.cpuUsage(before);
    const cpuUs = spent.user + spent.system;
    if (cpuUs > 100_000) return Math.max(1, Math.round((rounds * us) / cpuUs));
    rounds *= 2;
  }
}
const WORK_ROUNDS = calibrate(WORK_US);

/** Runs the synthetic graph, feeding `reporter`; returns the wall time in ms. */
async function simulateRun(reporter) {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const emit = (body) => reporter.onEvent(stampEvent(body, Date.now()));
  const perTask = Math.ceil(QUANTA / TASKS.length);
  emit({
    event: "run-started",
    pipeline: "bench",
    collection: "bench",
    executor: "pool",
    workers: WORKERS,
    tasks: TASKS.map((task, i) => ({ task, total: Math.min(perTask, QUANTA - i * perTask) })),
  });
  const running = [];
  const durations = new Map(TASKS.map((t) => [t, 0]));
  const ref = (q) => {
    const task = TASKS[Math.floor(q / perTask)];
    return { quantum: q, task, dataId: `visit=${q % 997},detector=${q % 103}` };
  };
  let next = 0;
  while (next < QUANTA || running.length > 0) {
    while (running.length < WORKERS && next < QUANTA) {
      const r = ref(next++);
      running.push({ ...r, started: performance.now() });
      emit({ event: "quantum-started", attempt: 1, ...r });
    }
    const done = running.shift();
    work(WORK_ROUNDS);
    const { started, ...r } = done;
    const durationMs = performance.now() - started;
    durations.set(r.task, durations.get(r.task) + durationMs);
    if (FAILING) emit({ event: "quantum-failed", attempt: 1, error: "command exited with code 1", logTail: LOG_TAIL, durationMs, ...r });
    else emit({ event: "quantum-finished", durationMs, noWork: false, ...r });
    if ((r.quantum + 1) % perTask === 0 || r.quantum === QUANTA - 1) {
      const total = Math.min(perTask, QUANTA - TASKS.indexOf(r.task) * perTask);
      const ran = FAILING ? 0 : total;
      emit({ event: "task-finished", counts: { task: r.task, total, ran, upToDate: 0, failed: total - ran, blocked: 0, noWork: 0, durationMs: durations.get(r.task) } });
    }
    await yieldToLoop();
  }
  const wall = performance.now() - start;
  emit({
    event: "run-finished",
    pipeline: "bench",
    collection: "bench",
    counts: { ran: FAILING ? 0 : QUANTA, upToDate: 0, failed: FAILING ? QUANTA : 0, blocked: 0, noWork: 0 },
    durationMs: wall,
    tasks: TASKS.map((task) => ({ task, total: perTask, ran: FAILING ? 0 : perTask, upToDate: 0, failed: FAILING ? perTask : 0, blocked: 0, noWork: 0, durationMs: durations.get(task) })),
    slowest: [],
    exitCode: FAILING ? 1 : 0,
  });
  await reporter.close();
  const cpu = process.cpuUsage(cpuStart);
  return { wall: performance.now() - start, cpu: (cpu.user + cpu.system) / 1000 };
}

/** Time spent inside reporter code in the current run, in ms, in total and by its timer alone. */
let reporterMs = 0;
let timerMs = 0;
let timerCalls = 0;
const timed = (fn, isTimer = false) =>
  function (...args) {
    const t = performance.now();
    try {
      return fn.apply(this, args);
    } finally {
      const spent = performance.now() - t;
      reporterMs += spent;
      if (isTimer) {
        timerMs += spent;
        timerCalls += 1;
      }
    }
  };
function timeReporter(reporter) {
  return {
    onEvent: timed((e) => reporter.onEvent(e)),
    async close() {
      const t = performance.now();
      await reporter.close();
      reporterMs += performance.now() - t;
    },
  };
}
/** The real clock, with the redraw timer's callbacks counted as reporter time. */
const timedClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const handle = setInterval(timed(fn, true), ms);
    handle.unref();
    return () => clearInterval(handle);
  },
};

const variants = {
  none: () => ({ onEvent() {}, async close() {} }),
  json: () => timeReporter(createJsonReporter({ out: makeSink(false) })),
  live: () => timeReporter(createLiveReporter({ stdout: makeSink(true), clock: timedClock })),
};

const walls = { none: [], json: [], live: [] };
const cpus = { none: [], json: [], live: [] };
const inReporter = { none: [], json: [], live: [] };
const written = { none: 0, json: 0, live: 0 };
await simulateRun(variants.live()); // warm-up (loads and JITs ink and React)
for (let round = 0; round < ROUNDS; round++) {
  for (const name of Object.keys(variants)) {
    bytes = 0;
    reporterMs = 0;
    timerMs = 0;
    timerCalls = 0;
    const { wall, cpu } = await simulateRun(variants[name]());
    if (process.env.BENCH_DEBUG) console.log(name, { wall, cpu, reporterMs, timerMs, timerCalls });
    walls[name].push(wall);
    cpus[name].push(cpu);
    inReporter[name].push(reporterMs);
    written[name] = bytes;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`live view vs --json: ${QUANTA} ${FAILING ? "failing " : ""}quanta, ${WORK_US} µs of engine work each, ${WORKERS} workers, ${ROUNDS} rounds (medians)`);
console.log("  variant   wall ms    cpu ms   in reporter ms   written");
for (const name of Object.keys(variants)) {
  const wall = median(walls[name]).toFixed(0).padStart(7);
  const cpu = median(cpus[name]).toFixed(0).padStart(7);
  const spent = median(inReporter[name]).toFixed(1).padStart(14);
  console.log(`  ${name.padEnd(7)} ${wall}   ${cpu}   ${spent}   ${(written[name] / 1024).toFixed(0).padStart(5)} KiB`);
}
const byCpu = median(cpus.live) / median(cpus.json);
const byWall = median(walls.live) / median(walls.json);
console.log(`  live / json, CPU time:   ${byCpu.toFixed(3)}  (target < 1.05: ${byCpu < 1.05 ? "met" : "NOT met"})`);
console.log(`  live / json, wall time:  ${byWall.toFixed(3)}`);
