import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { open } from "lmdb";
import { collectGarbage } from "../../src/app/gc.js";
import { verifyRepository } from "../../src/app/verify.js";
import { BlobStore, INLINE_BLOB_MAX_BYTES } from "../../src/store/blob-store.js";
import { blobsInShard, shardBlobs } from "../../src/store/sharded-blobs.js";
import { openRepository } from "../../src/store/repository.js";
import { loadHasher } from "../../src/store/hasher.js";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-blobs-")));
afterEach(() => cleanup());

describe("hasher", () => {
  it("14.11 gives 128-bit digests, 32 hex digits (xxh64 with seed 0, then with a second seed), and blob digests with the length", async () => {
    const h = await loadHasher();
    expect(h.hashString("")).toBe("ef46db3751d8e999c4349fc93c010000");
    expect(h.hashString("abc")).toBe("44bc2cf5ad7709992ed0f59d6b43ac8b");
    expect(h.hashBytes(new TextEncoder().encode("abc"))).toBe("44bc2cf5ad7709992ed0f59d6b43ac8b-3");
    expect(h.hashBytes(new Uint8Array(0))).toBe("ef46db3751d8e999c4349fc93c010000-0");
    // Inputs that agree in one half of the digest still differ in the whole: a collision needs both.
    const digests = new Set(Array.from({ length: 2000 }, (_, i) => h.hashString(`input ${i}`)));
    expect(digests.size).toBe(2000);
    for (const d of digests) expect(d).toMatch(/^[0-9a-f]{32}$/);
  });

  it("streams to the same digest however the bytes are split", async () => {
    const h = await loadHasher();
    const bytes = new Uint8Array(100_003).map((_, i) => (i * 31) % 251);
    for (const chunk of [1, 7, 4096, 100_003]) {
      const s = h.createStream();
      for (let i = 0; i < bytes.length; i += chunk) s.update(bytes.subarray(i, i + chunk));
      expect(s.digest()).toBe(h.hashBytes(bytes));
    }
  });
});

describe("BlobStore", () => {
  it("round-trips bytes under blobs/<2 hex>/<rest>", async () => {
    const store = new BlobStore(dir, await loadHasher());
    const bytes = new TextEncoder().encode("hello blobs");
    const digest = await store.put(bytes);
    expect(digest).toMatch(/^[0-9a-f]{32}-11$/);
    expect(store.pathOf(digest)).toBe(join(dir, "blobs", digest.slice(0, 2), digest.slice(2)));
    expect(store.has(digest)).toBe(true);
    expect(new Uint8Array(await store.read(digest))).toEqual(bytes);
    expect(new Uint8Array(store.readSync(digest))).toEqual(bytes);
    const other = store.putSync(new TextEncoder().encode("sync"));
    expect(store.readSync(other).toString()).toBe("sync");
    expect(store.list()).toEqual([digest, other].sort());
    expect(store.delete(digest)).toBe(true);
    expect(store.has(digest)).toBe(false);
    expect(store.delete(digest)).toBe(false);
    expect(store.list()).toEqual([other]);
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
  });

  it("never rewrites an existing blob", async () => {
    const store = new BlobStore(dir, await loadHasher());
    const digest = await store.put(Buffer.from("same"));
    const before = statSync(store.pathOf(digest));
    expect(await store.put(Buffer.from("same"))).toBe(digest);
    expect(store.putSync(Buffer.from("same"))).toBe(digest);
    const after = statSync(store.pathOf(digest));
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it("copies files whole or in streamed chunks to the same digest", async () => {
    const hasher = await loadHasher();
    const src = join(dir, "big.bin");
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17).map((_, i) => i % 253);
    writeFileSync(src, bytes);
    const whole = await new BlobStore(join(dir, "a"), hasher).putFile(src);
    const streamed = await new BlobStore(join(dir, "b"), hasher, { streamThreshold: 1024 }).putFile(src);
    expect(streamed).toEqual(whole);
    expect(whole).toEqual({ digest: hasher.hashBytes(bytes), size: bytes.length });
    const store = new BlobStore(join(dir, "b"), hasher);
    expect(Buffer.compare(store.readSync(streamed.digest), bytes)).toBe(0);
    expect(await store.check(streamed.digest)).toBe("ok");
  });

  it("check() tells ok, corrupt and missing apart", async () => {
    const store = new BlobStore(dir, await loadHasher());
    const digest = await store.put(Buffer.from("precious"));
    expect(await store.check(digest)).toBe("ok");
    writeFileSync(store.pathOf(digest), "precioux");
    expect(await store.check(digest)).toBe("corrupt");
    store.delete(digest);
    expect(await store.check(digest)).toBe("missing");
  });

  it("a write killed before its rename leaves no visible blob, only a temporary file", async () => {
    // The child's rename never returns (patched before the store is loaded): it says so, and is killed
    // there, with its temporary file complete and fsync'd but not renamed into place.
    const script = `
      import fsp from "node:fs/promises";
      import { syncBuiltinESMExports } from "node:module";
      fsp.rename = () => { process.stdout.write("renaming\\n"); return new Promise(() => {}); };
      syncBuiltinESMExports();
      const { BlobStore } = await import(${JSON.stringify(join(PROJECT_ROOT, "dist/store/blob-store.js"))});
      const { loadHasher } = await import(${JSON.stringify(join(PROJECT_ROOT, "dist/store/hasher.js"))});
      const [repo] = process.argv.slice(1);
      const store = new BlobStore(repo, await loadHasher());
      await store.put(new Uint8Array(64 * 1024).fill(1));
      process.stdout.write("renamed\\n");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, dir], { stdio: ["ignore", "pipe", "inherit"] });
    const said = await new Promise<string>((resolve) => {
      child.stdout.setEncoding("utf8").once("data", resolve);
      child.once("close", (code) => resolve(`child exited early with ${code}`));
    });
    expect(said).toBe("renaming\n");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("close", resolve));

    const store = new BlobStore(dir, await loadHasher());
    expect(store.list()).toEqual([]);
    expect(store.listTemp()).toHaveLength(1);
    expect(statSync(store.listTemp()[0]!).size).toBeGreaterThan(0);
  });
});

describe("adoptFileSync", () => {
  it("renames a file into the store under its digest, read whole or in chunks, with or without a size given", async () => {
    const hasher = await loadHasher();
    const store = new BlobStore(dir, hasher, { streamThreshold: 1024 });
    const cases = [
      { bytes: Buffer.from("small output\n"), statSize: undefined },
      { bytes: Buffer.from("small output, its size known\n"), statSize: 29 },
      { bytes: Buffer.alloc(5000, "x"), statSize: 5000 },
    ];
    for (const [i, c] of cases.entries()) {
      const path = join(dir, `out-${i}`);
      writeFileSync(path, c.bytes);
      const adopted = store.adoptFileSync(path, c.statSize);
      expect(adopted).toEqual({ digest: hasher.hashBytes(c.bytes), size: c.bytes.length });
      expect(existsSync(path)).toBe(false);
      expect(store.readSync(adopted.digest).equals(c.bytes)).toBe(true);
    }
  });
});

describe("filesPresent", () => {
  it("takes a list grouped by shard, which gives back each digest once (shardBlobs)", async () => {
    const hasher = await loadHasher();
    const digests = Array.from({ length: 3000 }, (_, i) => hasher.hashBytes(Buffer.from(`blob ${i}`)));
    const sharded = shardBlobs([...digests, ...digests.slice(0, 100)]);
    const shards = Object.keys(sharded).sort();
    expect(shards).toEqual([...new Set(digests.map((d) => d.slice(0, 2)))].sort());
    const back = shards.flatMap((shard) => blobsInShard(sharded, shard));
    expect(back).toEqual([...digests].sort());
    expect(blobsInShard(sharded, "zz")).toEqual([]);
    expect(shardBlobs([])).toEqual({});
  });

  it("trusts a shard whose directory is unchanged, and sees a blob deleted from it", async () => {
    const store = new BlobStore(dir, await loadHasher());
    const digests = [store.putSync(Buffer.from("one")), store.putSync(Buffer.from("two"))];
    const shards = digests.map((d) => d.slice(0, 2));
    // Just written: too recent to trust (a coarse clock could give a later change the same ctime).
    const fresh = store.filesPresent(shardBlobs(digests));
    expect(fresh).toEqual({ present: true, trusted: {} });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const settled = store.filesPresent(shardBlobs(digests));
    expect(settled.present).toBe(true);
    expect(Object.keys(settled.trusted).sort()).toEqual([...new Set(shards)].sort());
    expect(settled.trusted[shards[0]!]).toBe(statSync(join(dir, "blobs", shards[0]!)).ctimeMs);
    // Unchanged since: still trusted, and the answer is the same.
    expect(store.filesPresent(shardBlobs(digests), settled.trusted)).toEqual(settled);
    rmSync(store.pathOf(digests[0]!));
    expect(store.filesPresent(shardBlobs(digests), settled.trusted)).toEqual({ present: false, trusted: {} });
    expect(store.filesPresent(shardBlobs([digests[1]!]), settled.trusted).present).toBe(true);
  });

  it("carries over the trusted shards no blob has come to or gone from since, and where no blob is new (shardsUnchanged)", async () => {
    const store = new BlobStore(dir, await loadHasher());
    // A new blob file whose digest passes `fits` (its shard is its digest's first two characters).
    let tried = 0;
    const blobWhere = (fits: (digest: string) => boolean) => {
      for (;;) {
        const bytes = Buffer.from(`blob ${tried++}`);
        if (fits(store.hasher.hashBytes(bytes))) return store.putSync(bytes);
      }
    };
    const shardOf = (d: string) => d.slice(0, 2);
    const a = blobWhere(() => true);
    const b = blobWhere((d) => shardOf(d) !== shardOf(a));
    // In a third shard: known to this store (its listing of the shard is taken now), then removed
    // behind its back, so that `exists` still says yes.
    const gone = blobWhere((d) => shardOf(d) !== shardOf(a) && shardOf(d) !== shardOf(b));
    expect(store.exists(gone)).toBe(true);
    rmSync(store.pathOf(gone));
    const neighbour = blobWhere((d) => shardOf(d) === shardOf(gone));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = [a, b, neighbour];
    const { trusted } = store.filesPresent(shardBlobs(before));
    expect(Object.keys(trusted).sort()).toEqual([shardOf(a), shardOf(b), shardOf(gone)].sort());
    expect(store.shardsUnchanged(trusted, shardBlobs(before), shardBlobs(before))).toEqual(trusted);
    // A blob the new stamp lists and the old did not: its shard is read again, whatever `exists` says.
    expect(store.exists(gone)).toBe(true);
    expect(store.shardsUnchanged(trusted, shardBlobs([...before, gone]), shardBlobs(before))).toEqual({ [shardOf(a)]: trusted[shardOf(a)], [shardOf(b)]: trusted[shardOf(b)] });
    expect(store.filesPresent(shardBlobs([...before, gone]), store.shardsUnchanged(trusted, shardBlobs([...before, gone]), shardBlobs(before))).present).toBe(false);
    // A new blob file in a's shard: that shard is read again by the next check, b's is not.
    blobWhere((d) => shardOf(d) === shardOf(a));
    expect(store.shardsUnchanged(trusted, shardBlobs(before), shardBlobs(before))).toEqual({ [shardOf(b)]: trusted[shardOf(b)], [shardOf(gone)]: trusted[shardOf(gone)] });
    // A blob gone from b's shard: not carried over either.
    rmSync(store.pathOf(b));
    expect(store.shardsUnchanged(trusted, shardBlobs(before), shardBlobs(before))).toEqual({ [shardOf(gone)]: trusted[shardOf(gone)] });
  });
});

describe("small blobs in the registry", () => {
  it("keeps blobs of at most 4 KiB in the registry: staged, readable at once, written by the next commit", async () => {
    const repo = await openRepository(join(dir, "repo"), { write: true });
    try {
      const small = new TextEncoder().encode("a small blob");
      const exact = new Uint8Array(INLINE_BLOB_MAX_BYTES).fill(7);
      const large = new Uint8Array(INLINE_BLOB_MAX_BYTES + 1).fill(8);
      const [ds, de, dl] = [small, exact, large].map((b) => repo.blobs.putSync(b));
      // Before any commit: readable and present, but no file was written for the small ones.
      expect(Buffer.from(repo.blobs.readSync(ds!)).toString()).toBe("a small blob");
      expect(repo.blobs.exists(ds!) && repo.blobs.exists(de!) && repo.blobs.exists(dl!)).toBe(true);
      expect(existsSync(repo.blobs.pathOf(ds!))).toBe(false);
      expect(existsSync(repo.blobs.pathOf(de!))).toBe(false);
      expect(existsSync(repo.blobs.pathOf(dl!))).toBe(true);
      await repo.registry.commit(() => undefined);
      expect([...repo.registry.listBlobs()].sort()).toEqual([ds, de].sort());
      expect(repo.blobs.list()).toEqual([ds, de, dl].sort());
      expect(await repo.blobs.check(de!)).toBe("ok");
    } finally {
      await repo.close();
    }
    // Another process (a reader) sees the committed small blobs.
    const reader = await openRepository(join(dir, "repo"), { write: false });
    try {
      expect(Buffer.from(await reader.blobs.read(reader.hasher.hashBytes(new TextEncoder().encode("a small blob")))).toString()).toBe("a small blob");
    } finally {
      await reader.close();
    }
  });

  it("a staged blob whose commit never happens is gone after a crash, with the records that named it", async () => {
    const root = join(dir, "repo");
    const script = `
      import { openRepository } from ${JSON.stringify(join(PROJECT_ROOT, "dist/store/repository.js"))};
      const repo = await openRepository(process.argv[1], { write: true });
      const d = repo.blobs.putSync(new TextEncoder().encode("never committed"));
      repo.registry.putRelation({ name: "r", dimensions: [], rows: [], digest: d });
      process.stdout.write(d);
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script, root], { stdio: ["ignore", "pipe", "inherit"] });
    let digest = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (digest += d));
    await new Promise((resolve) => child.once("close", resolve));
    expect(digest).toMatch(/^[0-9a-f]{32}-15$/);
    const repo = await openRepository(root, { write: true, onNote: () => undefined });
    try {
      expect(repo.blobs.exists(digest as never)).toBe(false);
      expect(repo.registry.getRelation("r")).toBeUndefined();
    } finally {
      await repo.close();
    }
  });

  it("verify finds a corrupt blob in the registry, and gc deletes unreferenced ones there", async () => {
    const root = join(dir, "repo");
    const repo = await openRepository(root, { write: true });
    let kept: string, dropped: string;
    try {
      kept = repo.blobs.putSync(new TextEncoder().encode("kept"));
      dropped = repo.blobs.putSync(new TextEncoder().encode("dropped"));
      await repo.registry.commit(() => repo.registry.putRelation({ name: "r", dimensions: [], rows: [], digest: kept as never }));
    } finally {
      await repo.close();
    }
    const env = open({ path: join(root, "registry"), maxDbs: 16 });
    await env.openDB<Buffer, string>("blobs", { encoding: "binary" }).put(kept, Buffer.from("KEPT"));
    await env.close();
    const again = await openRepository(root, { write: true });
    try {
      const report = await verifyRepository(again);
      expect(report.problems).toEqual([{ digest: kept, status: "corrupt", path: "registry", referencedBy: ["relation r"] }]);
      const gc = await collectGarbage(again);
      expect(gc).toMatchObject({ blobsDeleted: 1, blobsKept: 1, bytesFreed: 7 });
      expect(again.blobs.exists(dropped as never)).toBe(false);
      expect([...again.registry.listBlobs()]).toEqual([kept]);
    } finally {
      await again.close();
    }
  });
});

describe("forgetFile", () => {
  it("drops a blob file deleted behind the store's back from its shard listing", async () => {
    const store = new BlobStore(dir, await loadHasher());
    const digest = store.putSync(new Uint8Array(10_000).fill(3));
    expect(store.exists(digest)).toBe(true);
    rmSync(store.pathOf(digest));
    expect(store.exists(digest)).toBe(true); // the listing, taken before
    store.forgetFile(store.pathOf(digest));
    expect(store.exists(digest)).toBe(false);
  });
});

describe("materialize", () => {
  it("makes one blob file for a blob kept in the registry, however many ask at once, and never replaces one", async () => {
    const repo = await openRepository(join(dir, "repo"), { write: true });
    try {
      const bytes = new TextEncoder().encode("#define N 3\n");
      const digest = repo.blobs.putSync(bytes);
      expect(repo.blobs.inRegistry(digest)).toBe(true);
      const paths = await Promise.all(Array.from({ length: 8 }, () => repo.blobs.materialize(digest, bytes)));
      expect(new Set(paths)).toEqual(new Set([repo.blobs.pathOf(digest)]));
      const ino = statSync(paths[0]!).ino;
      // A fresh store (another process, say) asked again: the existing file, linked by some command
      // perhaps, keeps its inode.
      const other = new BlobStore(join(dir, "repo"), repo.hasher, { inline: repo.registry });
      expect(await other.materialize(digest, bytes)).toBe(paths[0]);
      expect(statSync(paths[0]!).ino).toBe(ino);
      expect(readdirSync(join(dir, "repo", "tmp")).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    } finally {
      await repo.close();
    }
  });

  it("makes again a blob file that a power loss left empty (nothing synced it: no record names it)", async () => {
    const repo = await openRepository(join(dir, "repo"), { write: true });
    try {
      const bytes = new TextEncoder().encode("#define N 3\n");
      const digest = repo.blobs.putSync(bytes);
      const path = await repo.blobs.materialize(digest, bytes);
      writeFileSync(path, ""); // what ext4's late allocation can leave after a power loss
      const next = new BlobStore(join(dir, "repo"), repo.hasher, { inline: repo.registry });
      expect(await next.materialize(digest, bytes)).toBe(path);
      expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
    } finally {
      await repo.close();
    }
  });
});
