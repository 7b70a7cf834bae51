/**
 * The repository server of a running `quanta watch`: while the watch holds the writer lock, a
 * `quanta run` started in another terminal on the same repository is sent here (server-protocol.ts)
 * instead of failing with "locked", and the watch runs it between its own passes.
 *
 * It listens on the repository's socket (server-socket.ts), readable and writable by its owner only
 * (made under a umask of 077, then set to 0600). A socket file already there is a killed server's:
 * the watch holds the writer lock, so no live server can own it, and it is replaced.
 */
import { chmodSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { parseServerRequest, type ServerReply, type ServerRequest } from "../core/server-protocol.js";
import { prepareSocketFolder, serverSocketOf } from "../store/server-socket.js";

/** Where the handler of a request sends its replies; `gone` aborts when the command hung up. */
export interface ReplyChannel {
  send(reply: ServerReply): void;
  readonly gone: AbortSignal;
}

export type RequestHandler = (request: ServerRequest, channel: ReplyChannel) => Promise<void>;

export class RepositoryServer {
  private readonly connections = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
  ) {}

  /** Listens on `repoRoot`'s socket; each request goes to `handle`, which ends it with `exit` or `error`. */
  static async listen(repoRoot: string, handle: RequestHandler): Promise<RepositoryServer> {
    const socket = serverSocketOf(repoRoot);
    await prepareSocketFolder(socket);
    removeStale(socket.path);
    const net = createServer({ allowHalfOpen: false });
    const server = new RepositoryServer(net, socket.path);
    net.on("connection", (conn) => server.accept(conn, repoRoot, handle));
    const mask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        net.once("error", reject);
        net.listen(socket.path, () => {
          net.off("error", reject);
          resolve();
        });
      });
    } finally {
      process.umask(mask);
    }
    chmodSync(socket.path, 0o600);
    return server;
  }

  /** Stops listening, hangs up on every command (their runs stop), and removes the socket. */
  async close(): Promise<void> {
    for (const conn of this.connections) conn.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    removeStale(this.socketPath);
  }

  private accept(conn: Socket, repoRoot: string, handle: RequestHandler): void {
    this.connections.add(conn);
    const hangUp = new AbortController();
    conn.on("close", () => {
      this.connections.delete(conn);
      hangUp.abort("the command hung up");
    });
    conn.on("error", () => conn.destroy());
    const channel: ReplyChannel = {
      send: (reply) => {
        if (!conn.destroyed) conn.write(JSON.stringify(reply) + "\n");
      },
      gone: hangUp.signal,
    };
    channel.send({ reply: "hello", pid: process.pid, repo: repoRoot });
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const end = buffered.indexOf("\n");
      if (end < 0) return;
      conn.off("data", onData);
      const request = parseServerRequest(buffered.slice(0, end));
      if ("invalid" in request) {
        channel.send({ reply: "error", message: `the watch serving this repository got ${request.invalid}`, exitCode: 2, hint: "use a quanta of the same version as the watch" });
        conn.end();
        return;
      }
      void handle(request, channel).finally(() => conn.end());
    };
    conn.on("data", onData);
  }
}

/** Removes a socket file left behind (ENOENT: nothing to remove). */
function removeStale(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}
