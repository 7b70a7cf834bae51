/**
 * The label of the totals row in the task tables (the live view, the run summary, `quanta status`). It
 * holds a space, which no task label may (`[A-Za-z_][A-Za-z0-9_-]*`), so a task named `total` or `all`
 * never reads as the totals.
 */
export const TOTAL_LABEL = "all tasks";
