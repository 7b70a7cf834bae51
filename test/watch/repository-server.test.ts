/**
 * 16.4: the repository server's socket (real Unix sockets in temporary folders): where it lives for a
 * repository whose path is too long for a socket, that it is the owner's only, what a malformed
 * request gets, and that a server's socket is gone after close.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connectServer } from "../../src/app/connect-server.js";
import { serverSocketOf } from "../../src/store/server-socket.js";
import { RepositoryServer } from "../../src/watch/repository-server.js";
import { connect } from "node:net";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function repoAt(depth: number): string {
  const base = mkdtempSync(join(tmpdir(), "quanta-server-"));
  dirs.push(base);
  const root = join(base, ...Array.from({ length: depth }, (_, i) => `folder-with-a-long-name-${i}`), "repo");
  mkdirSync(root, { recursive: true });
  return root;
}

describe("16.4 the repository server's socket", () => {
  it("16.4 lives in the repository, or in a private folder when the path is too long; is the owner's only; goes on close; a stale one is replaced", async () => {
    for (const root of [repoAt(0), repoAt(4)]) {
      const socket = serverSocketOf(root);
      expect(socket.path.startsWith(root)).toBe(socket.privateDir === undefined);
      expect(Buffer.byteLength(socket.path)).toBeLessThanOrEqual(100);
      // A stale file where the socket goes (a killed server's) is replaced.
      if (socket.privateDir === undefined) writeFileSync(socket.path, "");
      const server = await RepositoryServer.listen(root, async (_request, channel) => channel.send({ reply: "exit", code: 0 }));
      expect(lstatSync(socket.path).isSocket()).toBe(true);
      expect(lstatSync(socket.path).mode & 0o077).toBe(0);
      if (socket.privateDir !== undefined) expect(lstatSync(socket.privateDir).mode & 0o077).toBe(0);
      const conn = await connectServer(root);
      expect(conn?.pid).toBe(process.pid);
      expect(await conn!.run({ pipelineFile: "/p.yaml", targets: [], flags: { bind: [], config: [] } }, () => undefined)).toBe(0);
      await server.close();
      expect(existsSync(socket.path)).toBe(false);
      expect(await connectServer(root)).toBeUndefined();
    }
  });

  it("16.4 a malformed request gets an error reply, not a crash", async () => {
    const root = repoAt(0);
    const server = await RepositoryServer.listen(root, async () => {
      throw new Error("not reached");
    });
    const replies = await new Promise<string>((resolve) => {
      const s = connect(serverSocketOf(root).path);
      let text = "";
      s.on("data", (d) => (text += d.toString()));
      s.on("close", () => resolve(text));
      s.write('{"format":1,"command":"gc"}\n');
    });
    await server.close();
    const last = JSON.parse(replies.trim().split("\n").at(-1)!);
    expect(last).toMatchObject({ reply: "error", exitCode: 2 });
    expect(last.message).toContain('"gc"');
  });
});
