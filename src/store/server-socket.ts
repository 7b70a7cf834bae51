/**
 * Where a repository's server (a running `quanta watch`) listens: `<repo>/server.sock`. A Unix socket's
 * path holds at most about 107 bytes; for a repository deeper than that, the socket is
 * `quanta-<uid>/<digest of the repository's path>.sock` under the system's temporary folder, in a
 * folder only this user can write (nobody else can plant a server there). The command and the server
 * work the path out the same way, so nothing points from one to the other.
 */
import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { preparePrivateDirectory } from "./private-directory.js";

/** Longest socket path used as is (the kernel's limit is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 100;

export interface ServerSocket {
  path: string;
  /** The private folder it lives in when it is not in the repository (made and checked before use). */
  privateDir?: string;
}

export function serverSocketOf(repoRoot: string): ServerSocket {
  const root = realRoot(repoRoot);
  const inRepo = join(root, "server.sock");
  if (Buffer.byteLength(inRepo) <= MAX_SOCKET_PATH) return { path: inRepo };
  const privateDir = join(tmpdir(), `quanta-${process.getuid?.() ?? "user"}`);
  const name = createHash("sha256").update(root).digest("hex").slice(0, 24);
  return { path: join(privateDir, `${name}.sock`), privateDir };
}

/** Makes (or checks) the private folder of a socket outside the repository. */
export async function prepareSocketFolder(socket: ServerSocket): Promise<void> {
  if (socket.privateDir !== undefined) await preparePrivateDirectory(socket.privateDir, "use a server socket in");
}

/** The repository's path with its links resolved (the server and a command may name it differently). */
function realRoot(repoRoot: string): string {
  try {
    return realpathSync(repoRoot);
  } catch {
    return resolve(repoRoot);
  }
}
