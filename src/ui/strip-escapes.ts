/** CSI sequences (colours, cursor moves), OSC sequences (titles, links), and other lone ESC pairs. */
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]|[\u0000-\u0008\u000b-\u001f\u007f]/g;

/**
 * Removes terminal escape sequences and control characters (except tab and newline) from text a task
 * wrote, so plain output stays plain: a log tail may hold a tool's coloured output.
 */
export function stripEscapes(text: string): string {
  return text.replace(ESCAPES, "");
}
