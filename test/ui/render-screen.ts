/**
 * A tiny terminal emulator, enough for ink's output: text, newlines, carriage returns, cursor up (`CSI n A`),
 * cursor to column (`CSI n G`), erase line (`CSI 2K`) and erase below (`CSI J`); other escapes are ignored.
 * Returns the screen's lines (scrollback included), trailing spaces trimmed, trailing empty lines dropped.
 */
export function renderScreen(output: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  const pattern = /\u001b\[([?0-9;]*)([A-Za-z])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b.|\r|\n|[^\u001b\r\n]+/g;
  for (const match of output.matchAll(pattern)) {
    const token = match[0];
    if (token === "\n") {
      row += 1;
      col = 0;
      while (lines.length <= row) lines.push("");
    } else if (token === "\r") {
      col = 0;
    } else if (match[2] !== undefined) {
      const n = match[1] === "" ? 1 : Number(match[1]);
      switch (match[2]) {
        case "A":
          row = Math.max(0, row - n);
          break;
        case "G":
          col = Math.max(0, n - 1);
          break;
        case "K":
          if (match[1] === "2") lines[row] = "";
          else lines[row] = lines[row].slice(0, col);
          break;
        case "J":
          lines[row] = lines[row].slice(0, col);
          lines.length = row + 1;
          break;
        default:
          break;
      }
    } else if (!token.startsWith("\u001b")) {
      const line = lines[row].padEnd(col);
      lines[row] = line.slice(0, col) + token + line.slice(col + token.length);
      col += token.length;
    }
  }
  const trimmed = lines.map((l) => l.trimEnd());
  while (trimmed.length > 0 && trimmed[trimmed.length - 1] === "") trimmed.pop();
  return trimmed;
}
