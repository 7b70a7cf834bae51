/**
 * Node ends a process whose event loop has nothing left to wait for, even while a promise is pending,
 * with the exit code set so far: 0. A command (or a Slurm job, exec/slurm/slurm-job.ts) still waiting
 * then, for work that can no longer end (a bug), would look like a success. It is an internal error
 * instead, with exit code `exitCode`.
 */
export function failIfAbandoned(command: Promise<unknown>, exitCode = 70): void {
  let settled = false;
  const done = () => {
    settled = true;
  };
  command.then(done, done);
  process.on("beforeExit", () => {
    if (settled) return;
    settled = true;
    process.stderr.write(
      "error: internal error: quanta stopped waiting for work that can no longer end, before the command finished\n" +
        "hint: this is a bug in quanta, please report it; run the command again (a repository keeps every commit made before)\n",
    );
    process.exitCode = exitCode;
  });
}
