/**
 * A directory only this user can write, for what must not be planted by anyone else: the bundles of
 * task modules (loaded as code) and the socket of a repository server (whose answers are trusted).
 */
import { chmod, lstat, mkdir } from "node:fs/promises";
import { RepositoryError } from "../core/errors.js";

/**
 * Makes `dir` (and its parents) exist, and a directory only this user can write: one owned by another
 * user, or a symbolic link, is refused (`purpose` says what for); one with looser modes is tightened
 * to 0700.
 */
export async function preparePrivateDirectory(dir: string, purpose: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    const what = st.isSymbolicLink() ? "a symbolic link" : !st.isDirectory() ? "not a directory" : `owned by user ${st.uid}`;
    throw new RepositoryError(`refusing to ${purpose} ${dir}: it is ${what}`, "remove it; quanta makes it again, private to you");
  }
  if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
}
