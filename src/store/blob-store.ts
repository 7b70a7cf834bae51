/**
 * The content-addressed blob store.
 *
 * Where a blob lives depends on its size. Blobs of at most INLINE_BLOB_MAX_BYTES (4 KiB) live in the
 * registry, one LMDB value each (registry format 3, sub-database `blobs`): a run of many small quanta
 * then writes no file per output, reads its inputs with one LMDB get instead of open/read/close, and
 * commits each small blob in the same transaction as the records that reference it. Larger blobs are
 * files. The rule binds writers only: every blob of at most 4 KiB that this store writes goes to the
 * registry (staged, then written by the next registry commit), except a command's output, adopted as
 * a file (`adoptFileSync`), and a file made for a command to read (`materialize`). Readers look in the
 * registry first and then for a file, so a small blob that is also a file is found either way, and
 * `inRegistry` tells where a blob is. A store opened without a registry (a
 * worker thread) writes every blob as a file; worker threads hand small outputs back to the
 * scheduler's thread instead (run-quantum-job.ts).
 *
 * On-disk layout of blob files, blob format 1 (the repository's `format` file carries the number; see repository.ts):
 *   <repo>/blobs/<first 2 hex of the digest>/<the rest of the digest>   the bytes, never modified
 *   <repo>/tmp/<host>-<pid>-<thread>-<time>-<n>.tmp                    writes in progress
 *   <repo>/quarantine/<digest>                                         blobs found corrupt, set aside
 * e.g. digest `9a0364b9e99bb4805d1c0e7f3a2b6c48-10240` lives at `blobs/9a/0364b9e99bb4805d1c0e7f3a2b6c48-10240`.
 * A blob file holds exactly the bytes whose 128-bit hash (core/digest.ts) and length form its name. (The
 * hash was 64 bits up to registry format 3; an older repository is refused by its registry format.)
 *
 * Writes: the bytes go to a fresh temporary file in `<repo>/tmp/` and the file is renamed into place.
 * Durability has three modes. `per-blob` fsyncs each blob before its rename, and `flush()` fsyncs the
 * shard directories renamed into since the last flush. `deferred` (what runs use) fsyncs nothing per
 * blob: `flush()` syncs the whole file system once (`sync -f`, i.e. syncfs), which makes every blob
 * written so far durable, by any thread or process, at the cost of one call per batch instead of two
 * fsyncs per blob. `none` never syncs (benchmarks). In every mode, `flush()` then the registry commit
 * means: the blobs a record references are durable before the record is (a registry record must never
 * outlive its blob); blobs kept in the registry are durable with the very transaction of their records.
 * A blob that already exists is never rewritten (the temporary file is deleted instead). A crash therefore leaves
 * either no blob or a complete one; leftover temporary files are invisible to readers (they never look
 * in `tmp/`) and `quanta gc` deletes them. (In `deferred` mode a power loss, unlike a killed process,
 * can leave a renamed but unsynced blob with missing bytes and no record; `quanta verify` finds it.)
 */
import { createReadStream } from "node:fs";
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync as writeFileSyncFs,
  writeSync,
} from "node:fs";
import { link, mkdir, open, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { hostname } from "node:os";
import { threadId } from "node:worker_threads";
import type { BlobDigest } from "../core/digest.js";
import { blobDigestSize, isBlobDigest } from "../core/digest.js";
import { fsyncDirectory, syncFileSystem, syncFileSystemAsync } from "./file-sync.js";
import type { StoreHasher } from "./hasher.js";
import type { Registry } from "./registry.js";
import { ReferencedInputs, type ReferencedFile, type ReferenceIndex } from "./referenced-inputs.js";
import { blobsInShard, type ShardedBlobs } from "./sharded-blobs.js";
import { writeFailure, writing, writingSync } from "./write-failure.js";

/** Blobs this small or smaller live in the registry rather than in files of their own. */
export const INLINE_BLOB_MAX_BYTES = 4096;

/** In temporary names: writers on several hosts (Slurm jobs) share `tmp/`. */
const HOST = hostname();

/** The part of the registry that keeps small blobs. */
export type InlineBlobs = Pick<Registry, "stageBlob" | "getBlob" | "hasBlob" | "deleteBlob" | "listBlobs">;

export interface BlobStoreOptions {
  /** When blobs become durable (default `per-blob`); see the module comment. */
  durability?: BlobDurability;
  /** Shorthand: false is `durability: "none"`, true `per-blob`. */
  fsync?: boolean;
  /** Files at least this large are hashed and copied in chunks rather than read whole (default 8 MiB). */
  streamThreshold?: number;
  /** Where small blobs live; without it (worker threads), every blob is a file. */
  inline?: InlineBlobs;
  /** The registry's index of raw files ingested by reference, whose bytes are in no blob (referenced-inputs.ts). */
  references?: ReferenceIndex;
}

export type BlobDurability = "per-blob" | "deferred" | "none";

/** A shard directory changed this recently is read again by the next `filesPresent`. */
const RACY_SHARD_MS = 1000;

/** Files this large or larger are streamed through putFile. */
const DEFAULT_STREAM_THRESHOLD = 8 * 1024 * 1024;

let tempCounter = 0;

export class BlobStore {
  /** `<repo>/blobs` */
  readonly root: string;
  /** `<repo>/tmp` */
  readonly tmpDir: string;
  /** `<repo>/quarantine`: corrupt blobs, moved out of the store and kept for a user to inspect. */
  readonly quarantineDir: string;
  private readonly fsync: boolean;
  readonly durability: BlobDurability;
  private readonly streamThreshold: number;
  private readonly inline: InlineBlobs | undefined;
  /** Raw files ingested by reference: read (and hashed) in place of a blob that is no file. */
  readonly references: ReferencedInputs | undefined;
  /** Whether this store wrote a blob file since the last flush(). */
  private wroteFiles = false;
  /** Shard directories known to exist (created and fsync'd once per process). */
  private readonly shards = new Set<string>();
  /** Shard directories renamed into since the last flush(). */
  private readonly dirtyShards = new Set<string>();

  constructor(
    repoRoot: string,
    readonly hasher: StoreHasher,
    options: BlobStoreOptions = {},
  ) {
    this.root = join(repoRoot, "blobs");
    this.tmpDir = join(repoRoot, "tmp");
    this.quarantineDir = join(repoRoot, "quarantine");
    this.durability = options.durability ?? (options.fsync === false ? "none" : "per-blob");
    this.fsync = this.durability === "per-blob";
    this.streamThreshold = options.streamThreshold ?? DEFAULT_STREAM_THRESHOLD;
    this.inline = options.inline;
    this.references = options.references && new ReferencedInputs(options.references, hasher, repoRoot);
  }

  /**
   * Creates the missing shard directories in the background (libuv's thread pool), so that writing
   * blob files later seldom waits for a mkdir (up to a millisecond each on some file systems).
   */
  prepareShards(): void {
    if (this.fsync) return; // per-blob durability fsyncs each new shard's parent: leave it to ensureShardSync
    const present = new Set(readdirIfExists(this.root));
    const made: Promise<unknown>[] = [];
    for (let i = 0; i < 256; i++) {
      const shard = i.toString(16).padStart(2, "0");
      if (present.has(shard)) this.shards.add(shard);
      else made.push(mkdir(join(this.root, shard), { recursive: true }).then(() => this.shards.add(shard), () => undefined));
    }
    this.preparing = Promise.all(made);
  }

  private preparing: Promise<unknown> | undefined;

  /** Waits for background work (`prepareShards`) to end; the repository's close calls it. */
  async settle(): Promise<void> {
    await this.preparing;
  }

  /** Whether a blob of `size` bytes written by this store goes to the registry. */
  keepsInline(size: number): boolean {
    return this.inline !== undefined && size <= INLINE_BLOB_MAX_BYTES;
  }

  /** Whether the blob is kept in the registry (staged or committed), whether or not it is also a file. */
  inRegistry(digest: BlobDigest): boolean {
    return this.keepsInline(blobDigestSize(digest)) && this.inline!.hasBlob(digest);
  }

  /** The bytes of a blob kept in the registry (staged or committed); undefined for blob files. */
  inlineBytes(digest: BlobDigest): Uint8Array | undefined {
    return this.keepsInline(blobDigestSize(digest)) ? this.inline!.getBlob(digest) : undefined;
  }

  /**
   * Keeps bytes whose digest is already known (a worker thread's small output): staged in the
   * registry when small, else written as a file.
   */
  stage(digest: BlobDigest, bytes: Uint8Array): void {
    if (this.keepsInline(bytes.length)) {
      if (!this.inline!.hasBlob(digest)) this.inline!.stageBlob(digest, bytes);
      return;
    }
    if (!this.exists(digest)) this.writeFileSync(digest, bytes);
  }

  /**
   * The path of a blob file holding `bytes` (whose digest is `digest`), made if this store has not
   * seen one: for a command, which reads its inputs through hard links, when the blob is kept in the
   * registry. Made once, off this thread (libuv's pool: creating a file can take a millisecond), and
   * linked by every later quantum and run.
   */
  async materialize(digest: BlobDigest, bytes: Uint8Array): Promise<string> {
    const path = this.pathOf(digest);
    if (this.fileListed(digest) && this.materializedIntact(digest, path, bytes.length)) return path;
    // One write per blob, however many quanta ask at once; and never over an existing file (a link,
    // not a rename): a command may have linked that file already, and a new inode under its name
    // would look like a command writing to its input.
    let making = this.materializing.get(digest);
    if (making === undefined) {
      making = writing(path, async () => {
        const temp = this.makeTempPath();
        try {
          await writeFile(temp, bytes, { flag: "wx" });
          await this.ensureShard(digest.slice(0, 2));
          await link(temp, path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        } finally {
          await unlink(temp).catch(() => undefined);
        }
        this.noteWritten(digest);
        this.intact.add(digest);
        return path;
      }).finally(() => this.materializing.delete(digest));
      this.materializing.set(digest, making);
    }
    return making;
  }

  private readonly materializing = new Map<BlobDigest, Promise<string>>();

  /**
   * Whether a blob file made by an earlier `materialize` has its size, checked once per store. Such a
   * file has no record of its own, so nothing syncs it before the next commit that needs a sync: a
   * power loss before then can leave it empty under its name (ext4 allocates its blocks late). One
   * that is not whole is removed here, to be made again (no command has linked it yet: this is its
   * first use since the store was opened, and a writer holds the repository's lock).
   */
  private materializedIntact(digest: BlobDigest, path: string, size: number): boolean {
    if (this.intact.has(digest)) return true;
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.size === size) {
      this.intact.add(digest);
      return true;
    }
    if (st !== undefined) unlinkSync(path);
    this.forgetFile(path);
    return false;
  }

  /** Blob files this store made or found whole (see `materializedIntact`). */
  private readonly intact = new Set<BlobDigest>();

  /** Tells the store that the blob file at `path` (under `blobs/`) was deleted behind its back. */
  forgetFile(path: string): void {
    this.listings.get(basename(dirname(path)))?.delete(basename(path));
  }

  /** The path where the blob `digest` lives (whether or not it exists): absolute when the repository root is. */
  pathOf(digest: BlobDigest): string {
    // `root` is normal (made by join) and a digest is hex digits and a dash: joining is concatenating,
    // without path.join's scan of the result (a gather's job asks for 100,000 paths).
    return `${this.root}/${digest.slice(0, 2)}/${digest.slice(2)}`;
  }

  /**
   * Whether the blob exists, from a listing of its shard directory taken once (the fast check for
   * deciding many quanta: one readdir per shard instead of one stat per blob). Blobs this store writes
   * afterwards are added; a blob another thread wrote since the listing reads as missing, which only
   * ever makes a quantum rerun, never skip. The listing is asked first: a lookup in memory, where the
   * registry's is a read of LMDB, and a command's outputs are files, however small.
   */
  exists(digest: BlobDigest): boolean {
    return this.fileListed(digest) || this.inRegistry(digest) || this.referenced(digest);
  }

  /**
   * The raw file ingested by reference that a reader of `digest` reads, when no blob file holds it
   * (from the shard's listing: a blob file another thread wrote since reads as none, harmlessly).
   */
  referencedFile(digest: BlobDigest): ReferencedFile | undefined {
    if (this.references === undefined || this.fileListed(digest)) return undefined;
    return this.references.locate(digest)[0];
  }

  /** Whether a raw file ingested by reference holds the blob (as last hashed; its stat is not looked at). */
  referenced(digest: BlobDigest): boolean {
    return this.references?.has(digest) ?? false;
  }

  /** Whether the blob's file is in its shard's listing (see `exists`). */
  private fileListed(digest: BlobDigest): boolean {
    const shard = digest.slice(0, 2);
    let names = this.listings.get(shard);
    if (names === undefined) {
      names = new Set(readdirIfExists(join(this.root, shard)));
      this.listings.set(shard, names);
    }
    return names.has(digest.slice(2));
  }

  private readonly listings = new Map<string, Set<string>>();

  /**
   * A blob file another thread of this process wrote (a worker thread's output): listed from now on, so
   * that `exists` finds it in a later run of a long-lived process (a watch's next pass) as well.
   */
  noteWrittenElsewhere(digest: BlobDigest): void {
    this.noteWritten(digest);
  }

  private noteWritten(digest: BlobDigest): void {
    this.wroteFiles = true;
    this.listings.get(digest.slice(0, 2))?.add(digest.slice(2));
  }

  /** Whether the blob exists (one stat, or a file ingested by reference; its contents are not checked: see `quanta verify`). */
  has(digest: BlobDigest): boolean {
    if (this.inRegistry(digest)) return true;
    return statSync(this.pathOf(digest), { throwIfNoEntry: false }) !== undefined || this.referenced(digest);
  }

  async put(bytes: Uint8Array): Promise<BlobDigest> {
    const digest = this.hasher.hashBytes(bytes);
    if (this.keepsInline(bytes.length)) {
      this.stage(digest, bytes);
      return digest;
    }
    if (this.has(digest)) return digest;
    await writing(this.pathOf(digest), async () => {
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
      await this.moveIntoPlace(temp, digest).catch(async (err: unknown) => {
        await unlink(temp).catch(() => undefined);
        throw err;
      });
    });
    return digest;
  }

  putSync(bytes: Uint8Array): BlobDigest {
    const digest = this.hasher.hashBytes(bytes);
    if (this.keepsInline(bytes.length)) {
      this.stage(digest, bytes);
      return digest;
    }
    // The shard listing answers without a stat; a blob it misses is written again, harmlessly.
    if (!this.exists(digest)) this.writeFileSync(digest, bytes);
    return digest;
  }

  /** Writes a blob file; a failure is a RepositoryError naming it (see write-failure.ts). */
  private writeFileSync(digest: BlobDigest, bytes: Uint8Array): void {
    writingSync(this.pathOf(digest), () => this.writeFileNow(digest, bytes));
  }

  private writeFileNow(digest: BlobDigest, bytes: Uint8Array): void {
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
    try {
      this.ensureShardSync(digest);
      renameSync(temp, this.pathOf(digest));
    } catch (err) {
      tryUnlinkSync(temp);
      throw err;
    }
    this.noteWritten(digest);
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

  /**
   * Makes the blob `digest` a hard link to the file at `srcPath` (whose bytes the caller just hashed):
   * `transfer: link`. False when the file system refuses (another file system, no hard links): the
   * caller copies instead. The blob and the file are one inode from then on: an edit in place of the
   * file changes the blob (`quanta verify` and every reader that hashes find it corrupt).
   */
  linkFileSync(srcPath: string, digest: BlobDigest): boolean {
    if (this.fileListed(digest) && statSync(this.pathOf(digest), { throwIfNoEntry: false }) !== undefined) return true;
    writingSync(this.pathOf(digest), () => this.ensureShardSync(digest));
    try {
      linkSync(srcPath, this.pathOf(digest));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EXDEV" || code === "EPERM" || code === "EMLINK" || code === "ENOTSUP") return false;
      if (code !== "EEXIST") throw writeFailure(this.pathOf(digest), err);
    }
    this.noteWritten(digest);
    return true;
  }

  /** `putFile` for small files, with synchronous calls (cheaper than four trips through libuv's pool). */
  putFileSync(srcPath: string): { digest: BlobDigest; size: number } {
    const bytes = readFileSync(srcPath);
    return { digest: this.putSync(bytes), size: bytes.length };
  }

  /**
   * Takes a file this process owns and no longer needs (a command's output in its sandbox, on the
   * repository's file system) into the store by renaming it, whatever its size, so its bytes are read
   * once (to hash them) and never copied; the next command links it into its sandbox. The file is gone
   * afterwards either way.
   * Synchronous calls throughout (no trips through libuv's thread pool); large files are hashed in
   * chunks. `statSize`: the size a stat the caller just made gave (saves one).
   */
  adoptFileSync(path: string, statSize?: number): { digest: BlobDigest; size: number } {
    let size = statSize ?? statSync(path).size;
    let digest: BlobDigest;
    const fd = openSync(path, "r");
    try {
      if (size < this.streamThreshold) {
        // Read to the size known, in place of readFileSync's own fstat.
        const bytes = Buffer.allocUnsafe(size);
        let read = 0;
        for (let n; read < size && (n = readSync(fd, bytes, read, size - read, read)) > 0; ) read += n;
        size = read;
        digest = this.hasher.hashBytes(bytes.subarray(0, read));
      } else {
        const stream = this.hasher.createStream();
        const chunk = Buffer.allocUnsafe(1024 * 1024);
        size = 0;
        for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; size += n) stream.update(chunk.subarray(0, n));
        digest = stream.digest();
      }
    } finally {
      closeSync(fd);
    }
    // Only a blob file makes this one redundant (the registry is not asked: a small blob it holds may
    // have a file too, harmlessly). The listing answers without a stat on a miss (the usual case); a
    // hit is checked, since a blob file can go (a command that damaged its input has it removed). A
    // blob the listing misses is renamed over, harmlessly: same name, same bytes.
    if (this.fileListed(digest) && statSync(this.pathOf(digest), { throwIfNoEntry: false }) !== undefined) {
      unlinkSync(path);
      return { digest, size };
    }
    writingSync(this.pathOf(digest), () => {
      if (this.fsync) {
        const fd = openSync(path, "r+");
        fsyncSync(fd);
        closeSync(fd);
      }
      this.ensureShardSync(digest);
      renameSync(path, this.pathOf(digest));
    });
    this.noteWritten(digest);
    return { digest, size };
  }

  private async putLargeFile(srcPath: string): Promise<{ digest: BlobDigest; size: number }> {
    const stream = this.hasher.createStream();
    const temp = writingSync(this.tmpDir, () => this.makeTempPath());
    const out = await writing(temp, () => open(temp, "wx"));
    let size = 0;
    try {
      // Reading the source fails as itself (one input's problem); writing the copy as a RepositoryError.
      for await (const chunk of createReadStream(srcPath, { highWaterMark: 1024 * 1024 })) {
        const bytes = chunk as Buffer;
        stream.update(bytes);
        size += bytes.length;
        await writing(temp, () => out.write(bytes));
      }
      if (this.fsync) await writing(temp, () => out.sync());
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
    await writing(this.pathOf(digest), () =>
      this.moveIntoPlace(temp, digest).catch(async (err: unknown) => {
        await unlink(temp).catch(() => undefined);
        throw err;
      }),
    );
    return { digest, size };
  }

  /**
   * The blob's bytes; throws ENOENT if it does not exist. A blob that is no file but a raw file ingested
   * by reference is read from that file, and given only if its bytes still hash to `digest`: else a
   * RepositoryError names the file (changed, or gone).
   */
  async read(digest: BlobDigest): Promise<Uint8Array> {
    const kept = this.inlineBytes(digest);
    if (kept !== undefined) return kept;
    try {
      return await readFile(this.pathOf(digest));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return this.references?.readSync(digest) ?? Promise.reject(err);
    }
  }

  readSync(digest: BlobDigest): Uint8Array {
    const kept = this.inlineBytes(digest);
    if (kept !== undefined) return kept;
    try {
      return readFileSync(this.pathOf(digest));
    } catch (err) {
      const referenced = isNotFound(err) ? this.references?.readSync(digest) : undefined;
      if (referenced === undefined) throw err;
      return referenced;
    }
  }

  /** Re-hashes the blob's bytes: "ok", "missing", or "corrupt" (the bytes no longer match the name). */
  async check(digest: BlobDigest): Promise<"ok" | "missing" | "corrupt"> {
    const kept = this.inlineBytes(digest);
    if (kept !== undefined) return this.hasher.hashBytes(kept) === digest ? "ok" : "corrupt";
    const path = this.pathOf(digest);
    let stream: BlobHashStreamLike;
    try {
      stream = this.hasher.createStream();
      for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) stream.update(chunk as Buffer);
    } catch (err) {
      if (isNotFound(err)) return "missing";
      // Something else under the blob's name (a directory): not the blob.
      if ((err as NodeJS.ErrnoException).code === "EISDIR") return "corrupt";
      throw err;
    }
    return stream.digest() === digest ? "ok" : "corrupt";
  }

  /** Whether `bytes` are the blob `digest`: their length first (free), then their hash. */
  isIntact(digest: BlobDigest, bytes: Uint8Array): boolean {
    return bytes.length === blobDigestSize(digest) && this.hasher.hashBytes(bytes) === digest;
  }

  /**
   * Sets aside the copy of a corrupt blob kept in the registry: its bytes are written to
   * `<repo>/quarantine/<digest>` at once, and it is deleted from the registry by the commit this is
   * called in. False when the registry keeps no copy. (quarantine-blobs.ts orders the steps.)
   */
  quarantineRegistryCopy(digest: BlobDigest): boolean {
    const kept = this.inlineBytes(digest);
    if (kept === undefined) return false;
    const target = join(this.quarantineDir, digest);
    writingSync(target, () => {
      mkdirSync(this.quarantineDir, { recursive: true });
      try {
        writeFileSyncFs(target, kept);
      } catch (err) {
        tryUnlinkSync(target);
        throw err;
      }
    });
    this.inline!.deleteBlob(digest);
    return true;
  }

  /**
   * Moves a corrupt blob's file to `<repo>/quarantine/<digest>`, so that the store no longer has it: its
   * producer reruns (an output is missing), or ingest copies its source file in again. False when there
   * was no file. Call it only once the results computed from it are dropped (quarantine-blobs.ts).
   */
  quarantineFile(digest: BlobDigest): boolean {
    const target = join(this.quarantineDir, digest);
    let moved = false;
    writingSync(target, () => {
      mkdirSync(this.quarantineDir, { recursive: true });
      try {
        renameSync(this.pathOf(digest), target);
        moved = true;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
    this.forgetFile(this.pathOf(digest));
    this.intact.delete(digest);
    return moved;
  }

  /**
   * Deletes the blob (its file, and its registry copy: call it inside a registry commit); true if it
   * existed.
   */
  delete(digest: BlobDigest): boolean {
    let existed = false;
    if (this.inRegistry(digest)) {
      this.inline!.deleteBlob(digest);
      existed = true;
    }
    try {
      unlinkSync(this.pathOf(digest));
      this.forgetFile(this.pathOf(digest));
      return true;
    } catch (err) {
      if (isNotFound(err)) return existed;
      throw writeFailure(this.pathOf(digest), err);
    }
  }

  /**
   * Whether every blob in `digests` exists, read afresh from the disk (not from `exists`'s listings),
   * and what the next check may trust. A blob file cannot go without its shard directory's ctime
   * changing (POSIX: unlink, rename and link mark the parent directory changed, and no call sets a
   * ctime back), so a shard whose ctime equals the one in `trusted` is not read. The answer's `trusted`
   * holds each shard read now whose ctime is older than RACY_SHARD_MS: its directory was stat'ed before
   * it was read, and any change after that gets a later ctime, even from a coarse file-system clock.
   */
  filesPresent(blobs: ShardedBlobs, trusted: Readonly<Record<string, number>> = {}): { present: boolean; trusted: Record<string, number> } {
    const next: Record<string, number> = {};
    const now = Date.now();
    for (const shard of Object.keys(blobs)) {
      const dir = join(this.root, shard);
      const ctime = statSync(dir, { throwIfNoEntry: false })?.ctimeMs;
      if (ctime !== undefined && trusted[shard] === ctime) {
        next[shard] = ctime;
        continue;
      }
      const names = new Set(readdirIfExists(dir));
      for (const d of blobsInShard(blobs, shard)) if (!names.has(d.slice(2)) && !this.inRegistry(d)) return { present: false, trusted: {} };
      if (ctime !== undefined && ctime < now - RACY_SHARD_MS) next[shard] = ctime;
    }
    return { present: true, trusted: next };
  }

  /**
   * What a stamp listing `blobs` may keep of another's trusted shards (`trusted`, as `filesPresent`
   * gave them for the other's `before` list): the shards whose directories are unchanged since and in
   * which `blobs` lists no blob `before` did not. What the other's check found there is still there
   * (no file has come or gone since), and it is all the new stamp needs there: the next check reads only
   * the shards a run wrote into or found new blobs in, not all 256. (That a blob was found during the
   * run is not enough: `exists` may answer from a listing older than the trust.)
   */
  shardsUnchanged(trusted: Readonly<Record<string, number>>, blobs: ShardedBlobs, before: ShardedBlobs): Record<string, number> {
    const kept: Record<string, number> = {};
    for (const [shard, ctime] of Object.entries(trusted)) {
      if (listsNew(blobs, before, shard)) continue;
      if (statSync(join(this.root, shard), { throwIfNoEntry: false })?.ctimeMs === ctime) kept[shard] = ctime;
    }
    return kept;
  }

  /**
   * Every blob in the store (in the registry or a file), in digest order. Files that are not named
   * like a blob are skipped.
   */
  list(): BlobDigest[] {
    const out: BlobDigest[] = this.inline ? [...this.inline.listBlobs()] : [];
    for (const shard of readdirIfExists(this.root).sort()) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const rest of readdirIfExists(join(this.root, shard)).sort()) {
        const digest = shard + rest;
        if (isBlobDigest(digest)) out.push(digest);
      }
    }
    return [...new Set(out)].sort();
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
    // Worker threads share the pid: the thread id keeps their temporary names apart; Slurm jobs on
    // other hosts share the directory: the host name keeps theirs apart.
    return join(this.tmpDir, `${HOST}-${process.pid}-${threadId}-${Date.now().toString(36)}-${tempCounter}.tmp`);
  }

  private async moveIntoPlace(temp: string, digest: BlobDigest): Promise<void> {
    const shard = digest.slice(0, 2);
    await this.ensureShard(shard);
    // rename over an existing blob replaces identical bytes with identical bytes: harmless.
    await rename(temp, this.pathOf(digest));
    this.noteWritten(digest);
    if (this.fsync) this.dirtyShards.add(shard);
  }

  private async ensureShard(shard: string): Promise<void> {
    if (this.shards.has(shard)) return;
    await mkdir(join(this.root, shard), { recursive: true });
    if (this.fsync) fsyncDirectory(this.root);
    this.shards.add(shard);
  }

  /**
   * Makes every blob written so far durable under its name: fsyncs the touched shard directories
   * (`per-blob`), or syncs the file system (`deferred`: this covers blobs other threads wrote too).
   */
  flush(): void {
    writingSync(this.root, () => this.flushNow());
  }

  private flushNow(): void {
    if (!this.wroteFiles) return;
    this.wroteFiles = false;
    if (this.durability === "deferred") {
      syncFileSystem(this.root);
      return;
    }
    for (const shard of this.dirtyShards) fsyncDirectory(join(this.root, shard));
    this.dirtyShards.clear();
  }

  /**
   * `flush()`, with the file-system sync of `deferred` mode run without blocking the event loop. Syncs
   * even when this store wrote no file: worker threads' blob files are covered by it too.
   */
  async flushAsync(): Promise<void> {
    this.wroteFiles = this.durability !== "deferred";
    if (this.wroteFiles) {
      this.flush();
      return;
    }
    await syncFileSystemAsync(this.root);
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

/** Whether `blobs` lists a blob in `shard` that `before` does not. */
function listsNew(blobs: ShardedBlobs, before: ShardedBlobs, shard: string): boolean {
  const now = blobs[shard];
  if (now === undefined || now === before[shard]) return false;
  const known = new Set(blobsInShard(before, shard));
  return blobsInShard(blobs, shard).some((d) => !known.has(d));
}
