/**
 * The chain workload of the benchmarks (bench/peers.js, bench/watch.js): N independent chains of three
 * trivial shell steps, plus one gather over every chain's end, written for quanta and for ninja.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const STEP_COMMANDS = {
  step1: (src, dst) => `tr a-z A-Z < ${src} > ${dst}`,
  step2: (src, dst) => `rev < ${src} > ${dst}`,
  step3: (src, dst) => `wc -c < ${src} > ${dst}`,
};
export const gatherCommand = (list, dst) => `xargs cat < ${list} > ${dst}`;

export function inputText(i) {
  return `chain ${i}: the quick brown fox jumps over the lazy dog\n`;
}

export function writeInputs(dir, n) {
  mkdirSync(join(dir, "in"), { recursive: true });
  for (const d of ["s1", "s2", "s3"]) mkdirSync(join(dir, "out", d), { recursive: true });
  for (let i = 0; i < n; i++) writeFileSync(join(dir, "in", `${i}.txt`), inputText(i));
}

export function endsOf(n) {
  const ends = new Array(n);
  for (let i = 0; i < n; i++) ends[i] = `out/s3/${i}.txt`;
  return ends;
}

/** `gather: false` leaves the gather out (three tasks over N data IDs: 3N quanta). */
export function writeQuantaPipeline(dir, { gather = true } = {}) {
  const steps = [
    ["step1", "raw", "s1"],
    ["step2", "s1", "s2"],
    ["step3", "s2", "s3"],
  ];
  const lines = [
    "description: N chains of three trivial shell steps plus one gather (bench/peers.js).",
    "dimensions:",
    "  item: int",
    "inputs:",
    '  raw: { path: "in/{item}.txt", storage: file }',
    "tasks:",
  ];
  for (const [label, from, to] of steps) {
    lines.push(
      `  ${label}:`,
      `    command: "${STEP_COMMANDS[label]("{inputs.src}", "{outputs.dst}")}"`,
      "    dimensions: [item]",
      `    inputs: { src: { type: ${from}, dimensions: [item], storage: file } }`,
      `    outputs: { dst: { type: ${to}, dimensions: [item], storage: file } }`,
    );
  }
  if (gather) lines.push(
    "  gather:",
    `    command: "${gatherCommand("{inputs.ends.paths}", "{outputs.all}")}"`,
    "    dimensions: []",
    "    inputs: { ends: { type: s3, dimensions: [item], storage: file, multiple: true } }",
    "    outputs: { all: { type: all, dimensions: [], storage: file } }",
  );
  writeFileSync(join(dir, "chains.yaml"), `${lines.join("\n")}\n`);
}

/**
 * `session: true` starts each command in a session of its own (`setsid -w tr … < in > out`: the shell's redirections, then setsid execs the program), as quanta
 * starts its commands: on a kernel with autogroup scheduling each then gets its own CPU share.
 */
export function writeNinjaFile(dir, n, { session = false } = {}) {
  const wrap = (cmd) => (session ? `setsid -w ${cmd}` : cmd);
  const out = [
    "# N chains of three trivial shell steps plus one gather (bench/peers.js).",
    "rule step1",
    `  command = ${wrap(STEP_COMMANDS.step1("$in", "$out"))}`,
    "rule step2",
    `  command = ${wrap(STEP_COMMANDS.step2("$in", "$out"))}`,
    "rule step3",
    `  command = ${wrap(STEP_COMMANDS.step3("$in", "$out"))}`,
    "rule gather",
    `  command = ${wrap(gatherCommand("$out.rsp", "$out"))}`,
    "  rspfile = $out.rsp",
    "  rspfile_content = $in_newline",
  ];
  for (let i = 0; i < n; i++) {
    out.push(`build out/s1/${i}.txt: step1 in/${i}.txt`, `build out/s2/${i}.txt: step2 out/s1/${i}.txt`, `build out/s3/${i}.txt: step3 out/s2/${i}.txt`);
  }
  out.push(`build out/all.txt: gather ${endsOf(n).join(" ")}`, "default out/all.txt");
  writeFileSync(join(dir, "build.ninja"), `${out.join("\n")}\n`);
}
