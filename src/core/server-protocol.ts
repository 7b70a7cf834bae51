/**
 * What a command and a repository server (a running `quanta watch`) say to each other over the
 * server's socket: newline-delimited JSON, one request from the command, then replies until `exit` or
 * `error`.
 *
 *     command → server   {"format":1,"command":"run","request":{…}}
 *     server → command   {"reply":"hello","pid":1234,"repo":"/abs/cache"}
 *                        {"reply":"event","event":{…}}          (a run's events, as `--json` prints them)
 *                        {"reply":"exit","code":0}               (or {"reply":"error",…}: a QuantaError)
 *
 * The command renders the events with its own reporter, so what it prints is what it prints
 * standalone. Closing the connection before `exit` stops the run it asked for, as Ctrl-C would.
 *
 * A `status` request is answered from the watch's memory when it can be (the same plan as its last
 * pass, which settled every quantum, and no change seen since): a `status` event, then `exit`.
 * Otherwise the reply is `unknown`, and the command works it out by itself.
 */
import type { QuantaEvent } from "./events.js";

export const SERVER_PROTOCOL_FORMAT = 1;

/** A run's request as a command sends it: paths absolute (the server's working folder is not the command's). */
export interface ServedRunRequest {
  pipelineFile: string;
  targets: string[];
  flags: { where?: string; bind: string[]; tasks?: string; config: string[]; output?: string };
}

export type ServerRequest = { format: number; command: "run" | "status"; request: ServedRunRequest };

export type ServerReply =
  | { reply: "hello"; pid: number; repo: string }
  | { reply: "event"; event: QuantaEvent }
  | { reply: "exit"; code: number }
  | { reply: "unknown" }
  | { reply: "error"; message: string; exitCode: number; hint?: string };

/** The request in `line`, or why it is not one (the server answers with an error, never throws). */
export function parseServerRequest(line: string): ServerRequest | { invalid: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { invalid: "a request that is not JSON" };
  }
  if (typeof value !== "object" || value === null) return { invalid: "a request that is not an object" };
  const r = value as Partial<ServerRequest>;
  if (r.format !== SERVER_PROTOCOL_FORMAT) return { invalid: `a request of format ${JSON.stringify(r.format)} (this server speaks ${SERVER_PROTOCOL_FORMAT})` };
  if (r.command !== "run" && r.command !== "status") return { invalid: `a request for ${JSON.stringify(r.command)}, which a server does not answer` };
  const q = r.request as Partial<ServedRunRequest> | undefined;
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
  if (typeof q?.pipelineFile !== "string" || !strings(q.targets) || typeof q.flags !== "object" || q.flags === null) return { invalid: "a request without its pipeline, targets or flags" };
  if (!strings(q.flags.bind) || !strings(q.flags.config)) return { invalid: "a run request whose flags are not lists" };
  return r as ServerRequest;
}
