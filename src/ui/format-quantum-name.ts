/**
 * How a quantum is named to people: `task@dataId` (`calibrate@visit=12,detector=3`), the form `quanta
 * why` and `quanta log` accept; a quantum with an empty data ID (a task with no dimensions) is the
 * task's label alone.
 */
export function formatQuantumName(q: { task: string; dataId: string }): string {
  return q.dataId === "" ? q.task : `${q.task}@${q.dataId}`;
}
