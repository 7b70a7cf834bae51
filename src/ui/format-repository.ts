import { isAbsolute, relative, resolve } from "node:path";

/**
 * A repository directory as a header line shows it: relative to the working directory when it lies
 * inside it (`cache`, `mine/cache`), else absolute.
 */
export function formatRepository(repository: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, resolve(cwd, repository));
  if (rel === "") return ".";
  return rel.startsWith("..") || isAbsolute(rel) ? resolve(cwd, repository) : rel;
}
