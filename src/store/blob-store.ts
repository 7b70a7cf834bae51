/**
 * The content-addressed blob store.
 *
 * On-disk layout, blob format 1 (the repository's `format` file carries the number; see repository.ts):
 *   <repo>/blobs/<first 2 hex of the digest>/<the rest of the digest>   the bytes, never modified
 *   <repo>/tmp/<name>.tmp                                              writes in progress
 * e.g. digest `9a0364b9e99bb480-1024` lives at `blobs/9a/0364b9e99bb480-1024`. A blob file holds exactly
 * the bytes whose xxh64 and length form its name.
 *
 * Writes: the bytes go to a fresh temporary file in `<repo>/tmp/`, are fsync'd (unless `fsync: false`),
 * and the file is renamed into place. `flush()` fsyncs the shard directories renamed into since the last
 * flush, so the new names are durable too: callers flush before committing registry records that
 * reference the blobs (a registry record must never outlive its blob). A blob that
 * already exists is never rewritten (the temporary file is deleted instead). A crash therefore leaves
 * either no blob or a complete one; leftover temporary files are invisible to readers (they never look
 * in `tmp/`) and `quanta gc` deletes them.
 */
import { createReadStream } from "node:fs";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { threadId } from "node:worker_threads";
import type { BlobDigest } from "../core/digest.js";
import { isBlobDigest } from "../core/digest.js";
import type { StoreHasher } from "./hasher.js";

export interface BlobStoreOptions {
  /** fsync each blob before its rename (default true). Without it a power loss may lose recent blobs. */
  fsync?: boolean;
  /** Files at least this large are hashed and copied in chunks rather than read whole (default 8 MiB). */
  streamThreshold?: number;
}

/** Files this large or larger are streamed through putFile. */
const DEFAULT_STREAM_THRESHOLD = 8 * 1024 * 1024;

let tempCounter = 0;

export class BlobStore {
  /** `<repo>/blobs` */
  readonly root: string;
  /** `<repo>/tmp` */
  readonly tmpDir: string;
  private readonly fsync: boolean;
  private readonly streamThreshold: number;
  /** Shard directories known to exist (created and fsync'd once per process). */
  private readonly shards = new Set<string>();
  /** Shard directories renamed into since the last flush(). */
  private readonly dirtyShards = new Set<string>();

  constructor(
    repoRoot: string,
    private readonly hasher: StoreHasher,
    options: BlobStoreOptions = {},
  ) {
    this.root = join(repoRoot, "blobs");
    this.tmpDir = join(repoRoot, "tmp");
    this.fsync = options.fsync ?? true;
    this.streamThreshold = options.streamThreshold ?? DEFAULT_STREAM_THRESHOLD;
  }

  /** The absolute path where the blob `digest` lives (whether or not it exists). */
  pathOf(digest: BlobDigest): string {
    return join(this.root, digest.slice(0, 2), digest.slice(2));
  }

  /** Whether the blob exists (one stat; its contents are not checked: see `quanta verify`). */
  has(digest: BlobDigest): boolean {
    return statSync(this.pathOf(digest), { throwIfNoEntry: false }) !== undefined;
  }

  async put(bytes: Uint8Array): Promise<BlobDigest> {
    const digest = this.hasher.hashBytes(bytes);
    if (this.has(digest)) return digest;
    const temp = this.makeTempPath();
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(bytes);
      if (this.fsync) await handle.sync();
    } catch (err) {
      await handle.close();
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await handle.close();
    await this.moveIntoPlace(temp, digest);
    return digest;
  }

  putSync(bytes: Uint8Array): BlobDigest {
    const digest = this.hasher.hashBytes(bytes);
    if (this.has(digest)) return digest;
    const temp = this.makeTempPath();
    const fd = openSync(temp, "wx");
    try {
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      if (this.fsync) fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      tryUnlinkSync(temp);
      throw err;
    }
    closeSync(fd);
    this.ensureShardSync(digest);
    renameSync(temp, this.pathOf(digest));
    return digest;
  }

  /**
   * Copies a file into the store. Small files are read whole; large ones are hashed while being
   * copied, in chunks, so memory stays bounded.
   */
  async putFile(srcPath: string): Promise<{ digest: BlobDigest; size: number }> {
    const handle = await open(srcPath, "r");
    let size: number;
    try {
      size = (await handle.stat()).size;
      if (size < this.streamThreshold) {
        const bytes = await handle.readFile();
        const digest = await this.put(bytes);
        return { digest, size: bytes.length };
      }
    } finally {
      await handle.close();
    }
    return this.putLargeFile(srcPath);
  }

  private async putLargeFile(srcPath: string): Promise<{ digest: BlobDigest; size: number }> {
    const stream = this.hasher.createStream();
    const temp = this.makeTempPath();
    const out = await open(temp, "wx");
    let size = 0;
    try {
      for await (const chunk of createReadStream(srcPath, { highWaterMark: 1024 * 1024 })) {
        const bytes = chunk as Buffer;
        stream.update(bytes);
        size += bytes.length;
        await out.write(bytes);
      }
      if (this.fsync) await out.sync();
    } catch (err) {
      await out.close();
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    await out.close();
    const digest = stream.digest();
    if (this.has(digest)) {
      await unlink(temp);
      return { digest, size };
    }
    await this.moveIntoPlace(temp, digest);
    return { digest, size };
  }

  /** The blob's bytes; throws ENOENT if it does not exist. */
  read(digest: BlobDigest): Promise<Buffer> {
    return readFile(this.pathOf(digest));
  }

  readSync(digest: BlobDigest): Buffer {
    return readFileSync(this.pathOf(digest));
  }

  /** Re-hashes the blob's bytes: "ok", "missing", or "corrupt" (the bytes no longer match the name). */
  async check(digest: BlobDigest): Promise<"ok" | "missing" | "corrupt"> {
    const path = this.pathOf(digest);
    let stream: BlobHashStreamLike;
    try {
      stream = this.hasher.createStream();
      for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) stream.update(chunk as Buffer);
    } catch (err) {
      if (isNotFound(err)) return "missing";
      throw err;
    }
    return stream.digest() === digest ? "ok" : "corrupt";
  }

  /** Deletes the blob; true if it existed. */
  delete(digest: BlobDigest): boolean {
    try {
      unlinkSync(this.pathOf(digest));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Every blob in the store, in digest order. Files that are not named like a blob are skipped. */
  list(): BlobDigest[] {
    const out: BlobDigest[] = [];
    for (const shard of readdirIfExists(this.root).sort()) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const rest of readdirIfExists(join(this.root, shard)).sort()) {
        const digest = shard + rest;
        if (isBlobDigest(digest)) out.push(digest);
      }
    }
    return out;
  }

  /** Names of leftover temporary files (absolute paths). */
  listTemp(): string[] {
    return readdirIfExists(this.tmpDir).map((name) => join(this.tmpDir, name));
  }

  private makeTempPath(): string {
    if (!this.shards.has("tmp")) {
      mkdirSync(this.tmpDir, { recursive: true });
      this.shards.add("tmp");
    }
    tempCounter++;
    // Worker threads share the pid: the thread id keeps their temporary names apart.
    return join(this.tmpDir, `${process.pid}-${threadId}-${Date.now().toString(36)}-${tempCounter}.tmp`);
  }

  private async moveIntoPlace(temp: string, digest: BlobDigest): Promise<void> {
    const shard = digest.slice(0, 2);
    if (!this.shards.has(shard)) {
      await mkdir(join(this.root, shard), { recursive: true });
      if (this.fsync) fsyncDirectory(this.root);
      this.shards.add(shard);
    }
    // rename over an existing blob replaces identical bytes with identical bytes: harmless.
    await rename(temp, this.pathOf(digest));
    if (this.fsync) this.dirtyShards.add(shard);
  }

  /** Makes every blob written so far durable under its name (fsyncs the touched shard directories). */
  flush(): void {
    for (const shard of this.dirtyShards) fsyncDirectory(join(this.root, shard));
    this.dirtyShards.clear();
  }

  private ensureShardSync(digest: BlobDigest): void {
    const shard = digest.slice(0, 2);
    if (this.fsync) this.dirtyShards.add(shard);
    if (this.shards.has(shard)) return;
    mkdirSync(join(this.root, shard), { recursive: true });
    if (this.fsync) fsyncDirectory(this.root);
    this.shards.add(shard);
  }
}

type BlobHashStreamLike = ReturnType<StoreHasher["createStream"]>;

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readdirIfExists(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function tryUnlinkSync(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}
