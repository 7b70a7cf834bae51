/**
 * An ingest that commits nothing: what the readers `status`, `why` and `graph` plan over, so that they
 * need no writer lock and see edited input files all the same.
 *
 * It is the ingest itself (ingest.ts: the same walk, the same decisions about which files to read, the
 * same hashing, the same data IDs and the same problems), through another sink: files are hashed but
 * not copied into the blob store, and the registry writes go to an OverlayRegistry, the repository's
 * registry (one snapshot of it) with those writes applied in memory. Planning then reads the overlay
 * as it would read the registry after a real ingest. Nothing reaches the repository: no blob, no
 * dataset or relation record, no file state, no stamp.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { readFileSync } from "node:fs";
import type { BlobDigest } from "../core/digest.js";
import type { StoreHasher } from "../store/hasher.js";
import { OverlayRegistry } from "../store/overlay-registry.js";
import type { Repository } from "../store/repository.js";
import { ingestInto, type IngestOptions, type IngestReport, type IngestSink } from "./ingest.js";

/** Files at least this large are hashed in chunks rather than read whole (as the blob store copies them). */
const STREAM_THRESHOLD = 8 * 1024 * 1024;

export interface IngestPreview {
  /** What the ingest would report (its counts say what it would change). */
  report: IngestReport;
  /** The repository as a reader plans over it: its registry with the inputs as the ingest would leave them. */
  repo: Repository;
}

/** What `ingestInputs(options)` would do, done in memory; `options.repo` may be a reader's. */
export async function previewIngest(options: IngestOptions): Promise<IngestPreview> {
  const { repo } = options;
  const overlay = new OverlayRegistry(repo.root, repo.registry);
  const report = await ingestInto(options, previewSink(repo.hasher, overlay));
  return { report, repo: { ...repo, registry: overlay } };
}

/** A sink that hashes and remembers, and stores nothing. */
function previewSink(hasher: StoreHasher, overlay: OverlayRegistry): IngestSink {
  return {
    commits: false,
    takeFileSync(path, _transfer) {
      const bytes = readFileSync(path);
      return { digest: hasher.hashBytes(bytes), size: bytes.length };
    },
    takeFile: (path) => hashFile(hasher, path),
    takeBytes: async (bytes) => hasher.hashBytes(bytes),
    records: overlay,
    async apply(writes) {
      writes();
    },
  };
}

/** A file's digest, computed as the blob store computes it when it copies the file in. */
export async function hashFile(hasher: StoreHasher, path: string): Promise<{ digest: BlobDigest; size: number }> {
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    if (size < STREAM_THRESHOLD) {
      const bytes = await handle.readFile();
      return { digest: hasher.hashBytes(bytes), size: bytes.length };
    }
  } finally {
    await handle.close();
  }
  const stream = hasher.createStream();
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    stream.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: stream.digest(), size };
}
