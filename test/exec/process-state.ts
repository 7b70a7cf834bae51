/** What tests of command quanta need to know about a process. Linux only (reads /proc). */
import { existsSync, readFileSync } from "node:fs";

/**
 * Dead or dying: gone, a zombie, or inside exit (the kernel's PF_EXITING flag, set before a killed
 * process closes its files; a run ends once the last holder of its output pipe closed it).
 */
export function isDead(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return true;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const PF_EXITING = 0x4;
  return fields[0] === "Z" || fields[0] === "X" || (Number(fields[6]) & PF_EXITING) !== 0;
}
