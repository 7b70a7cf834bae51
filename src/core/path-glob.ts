/**
 * Globs that limit an input's path template (`include:` / `exclude:` in the `inputs:` section), matched
 * against a file's whole path. Relative to the pipeline file, like `path`, and made absolute by the
 * loader. `*` matches any characters but `/`, `?` one of them, `**` any characters including `/`
 * (`**‍/` also none: `src/**‍/*.c` matches `src/a.c`), `[abc]` / `[!abc]` one of a set; everything else
 * matches itself.
 */

/**
 * Why `glob` cannot be compiled, or undefined when it can. Only a set can be wrong: a range whose ends
 * are out of order (`[9-1]`). A `[` with no `]` after it matches itself.
 */
export function pathGlobProblem(glob: string): string | undefined {
  for (let i = 0; i < glob.length; i++) {
    const end = glob[i] === "[" ? glob.indexOf("]", i + 2) : -1;
    if (end < 0) continue;
    const body = glob.slice(i + 1, end);
    const set = body.startsWith("!") ? body.slice(1) : body;
    // Ranges are read left to right, as a RegExp reads its classes: `a-c-e` is a-c, then `-` and `e`.
    for (let k = 0; k < set.length; k++) {
      if (set[k + 1] !== "-" || k + 2 >= set.length) continue;
      if (set[k]! > set[k + 2]!) return `its set [${body}] has the range ${set[k]}-${set[k + 2]}, whose ends are out of order`;
      k += 2;
    }
    i = end;
  }
  return undefined;
}

/** The RegExp of a glob over whole paths; throws for a glob `pathGlobProblem` finds wrong. */
export function compilePathGlob(glob: string): RegExp {
  const problem = pathGlobProblem(glob);
  if (problem !== undefined) throw new Error(`glob "${glob}": ${problem}`);
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[" && glob.indexOf("]", i + 2) > 0) {
      const end = glob.indexOf("]", i + 2);
      const body = glob.slice(i + 1, end);
      re += body.startsWith("!") ? `[^/${escapeClass(body.slice(1))}]` : `[${escapeClass(body)}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|[\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function escapeClass(body: string): string {
  return body.replace(/[\\\]^]/g, "\\$&");
}

/** Whether the file at `path` is one of an input's, given its `include` and `exclude` globs (compiled). */
export function isSelectedPath(path: string, limits: { include?: readonly RegExp[]; exclude?: readonly RegExp[] }): boolean {
  if (limits.include !== undefined && !limits.include.some((g) => g.test(path))) return false;
  return !(limits.exclude?.some((g) => g.test(path)) ?? false);
}
