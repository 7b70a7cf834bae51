/**
 * The command's side of a repository server (watch/repository-server.ts): when a `quanta watch`
 * serves the repository, `quanta run` hands it its request and prints the events that come back
 * with its own reporter, as it would standalone. With no server (no socket, or one a killed watch
 * left, which nothing answers) the command goes on by itself, and takes over the stale lock as usual.
 */
import { existsSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { QuantaError, RepositoryError } from "../core/errors.js";
import type { QuantaEvent } from "../core/events.js";
import { SERVER_PROTOCOL_FORMAT, type ServedRunRequest, type ServerReply } from "../core/server-protocol.js";
import { serverSocketOf } from "../store/server-socket.js";
import { stopOnInterrupt } from "./interrupts.js";

/** A connection to the server of a repository, greeted. */
export interface ServerConnection {
  /** The server's process id. */
  pid: number;
  /**
   * Sends a run's request; each event goes to `onEvent`; resolves with the run's exit code, or rejects
   * with its QuantaError. Ctrl-C or SIGTERM of this process hangs up, which stops the run.
   */
  run(request: ServedRunRequest, onEvent: (event: QuantaEvent) => void): Promise<number>;
  /** What `quanta status` of `request` says, when the server knows it from memory; undefined when it does not. */
  status(request: ServedRunRequest): Promise<QuantaEvent[] | undefined>;
  close(): void;
}

/** The server of `repoRoot`, when one answers; undefined otherwise. */
export async function connectServer(repoRoot: string): Promise<ServerConnection | undefined> {
  const { path } = serverSocketOf(repoRoot);
  if (!existsSync(path)) return undefined;
  const socket = await new Promise<Socket | undefined>((resolve) => {
    const s = connect(path);
    s.once("connect", () => resolve(s));
    s.once("error", () => resolve(undefined));
  });
  if (socket === undefined) return undefined;
  const lines = new LineReader(socket);
  const hello = await lines.next();
  if (hello?.reply !== "hello") {
    socket.destroy();
    return undefined;
  }
  return {
    pid: hello.pid,
    run: (request, onEvent) => runOn(socket, lines, request, onEvent),
    status: (request) => statusOn(socket, lines, request),
    close: () => socket.destroy(),
  };
}

async function runOn(socket: Socket, lines: LineReader, request: ServedRunRequest, onEvent: (event: QuantaEvent) => void): Promise<number> {
  socket.write(JSON.stringify({ format: SERVER_PROTOCOL_FORMAT, command: "run", request }) + "\n");
  const interrupt = stopOnInterrupt();
  // Hanging up (half-close) tells the server to stop the run; its last events and exit code still come.
  interrupt.signal.addEventListener("abort", () => socket.end(), { once: true });
  try {
    for (;;) {
      const reply = await lines.next();
      if (reply === undefined) {
        throw new RepositoryError("the watch serving this repository went away before the run ended", "run the command again: without the watch, it runs by itself");
      }
      if (reply.reply === "event") onEvent(reply.event);
      else if (reply.reply === "exit") return reply.code;
      else if (reply.reply === "error") throw new QuantaError(reply.message, reply.exitCode, reply.hint);
    }
  } finally {
    interrupt.dispose();
    socket.destroy();
  }
}

async function statusOn(socket: Socket, lines: LineReader, request: ServedRunRequest): Promise<QuantaEvent[] | undefined> {
  socket.write(JSON.stringify({ format: SERVER_PROTOCOL_FORMAT, command: "status", request }) + "\n");
  const events: QuantaEvent[] = [];
  try {
    for (;;) {
      const reply = await lines.next();
      // Gone, or a server that does not know: the command works it out by itself.
      if (reply === undefined || reply.reply === "unknown" || reply.reply === "error") return undefined;
      if (reply.reply === "event") events.push(reply.event);
      else if (reply.reply === "exit") return events;
    }
  } finally {
    socket.destroy();
  }
}

/** The replies on a socket, one JSON line at a time; undefined once it closed. */
class LineReader {
  private buffered = "";
  private readonly ready: ServerReply[] = [];
  private waiting: ((reply: ServerReply | undefined) => void) | undefined;
  private ended = false;

  constructor(socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffered += chunk;
      let end: number;
      while ((end = this.buffered.indexOf("\n")) >= 0) {
        this.push(JSON.parse(this.buffered.slice(0, end)) as ServerReply);
        this.buffered = this.buffered.slice(end + 1);
      }
    });
    const finish = () => {
      this.ended = true;
      this.waiting?.(undefined);
      this.waiting = undefined;
    };
    socket.on("close", finish);
    socket.on("error", finish);
  }

  next(): Promise<ServerReply | undefined> {
    const reply = this.ready.shift();
    if (reply !== undefined || this.ended) return Promise.resolve(reply);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private push(reply: ServerReply): void {
    if (this.waiting === undefined) {
      this.ready.push(reply);
      return;
    }
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve(reply);
  }
}
