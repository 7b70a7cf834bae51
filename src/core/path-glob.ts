/**
 * Globs that limit an input's path template (`include:` / `exclude:` in the `inputs:` section), matched
 * against a file's whole path. Relative to the pipeline file, like `path`, and made absolute by the
 * loader. `*` matches any characters but `/`, `?` one of them, `**` any characters including `/`
 * (`**‍/` also none: `src/**‍/*.c` matches `src/a.c`), `[abc]` / `[!abc]` one of a set; everything else
 * matches itself.
 */

/** The RegExp of a glob over whole paths. */
export function compilePathGlob(glob: string): RegExp {
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
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
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
