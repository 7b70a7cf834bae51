/**
 * A look at the registry's LMDB file before lmdb-js maps it. LMDB trusts its file: a truncated
 * `data.mdb` is read past its end (SIGBUS), and zeroed or overwritten header pages send it through
 * wild pointers (SIGSEGV) or assertions, killing the process before any error can be reported. So
 * every command checks, with a few small reads, what LMDB would otherwise trust blindly.
 *
 * What is checked (`data.mdb` as lmdb-js's LMDB writes it; all integers little-endian):
 *   page header (24 bytes): bytes 0-7 the page number, 8-15 a txn id, 18-19 the flags (0x01 branch,
 *     0x02 leaf, 0x08 meta)
 *   pages 0 and 1, the two meta pages, after their header: byte 24 the magic 0xBEEFC0DE, 28 the data
 *     version; 48 the page size (a power of two, 512 to 65536); 88 the root page of the free-page
 *     tree, 136 the root of the main tree (2^64-1: none); 144 the last page in use; 152 the txn id.
 *   Both meta pages must carry the meta flag and the magic, with the same page size; the file must
 *   hold every page up to the last one in use of each; the newer meta's roots must lie within it and
 *   be pages that say so (their own page number, flagged branch or leaf).
 * Damage that passes these checks and that LMDB notices later (MDB_CORRUPTED, MDB_PAGE_NOTFOUND…) is
 * reported the same way by `asRegistryDamage`; damage deeper in the trees that LMDB does not notice
 * can still crash it.
 *
 * A writer rewrites a meta page in place while readers run, so a check that fails is read again: a
 * torn read is not damage; only a failure seen three times in a row is.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { RepositoryError } from "../core/errors.js";

export type RegistryFileState =
  /** No `data.mdb` yet: the repository's creation stopped before LMDB made its file. */
  | { kind: "absent" }
  /** A `data.mdb` of zero bytes: creation stopped before LMDB wrote its header. */
  | { kind: "empty" }
  | { kind: "sound" }
  | { kind: "damaged"; problem: string };

const MAGIC = 0xbeefc0de;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_META = 0x08;
const NO_PAGE = 0xffffffffffffffffn;
const ATTEMPTS = 3;

interface Meta {
  pageSize: number;
  freeRoot: bigint;
  mainRoot: bigint;
  lastPage: bigint;
  txnId: bigint;
}

/** What `<registryDir>/data.mdb` looks like; never throws for a file it can read. */
export function inspectRegistryFile(registryDir: string): RegistryFileState {
  let fd: number;
  try {
    fd = openSync(join(registryDir, "data.mdb"), "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "absent" };
    throw err;
  }
  try {
    let state = inspectOpenFile(fd);
    for (let attempt = 1; state.kind === "damaged" && attempt < ATTEMPTS; attempt++) state = inspectOpenFile(fd);
    return state;
  } finally {
    closeSync(fd);
  }
}

/**
 * A registry with no format marker, opened read-only: its creation stopped before the marker was
 * committed. Readers finish the creation (repository.ts), as a writer's open does.
 */
export class UnfinishedRegistryError extends RepositoryError {
  constructor(root: string) {
    super(`registry in ${root} has no format marker (an interrupted creation?)`, `run 'quanta ingest PIPELINE --repo ${root}' to complete it`);
  }
}

/** The RepositoryError (exit 3) for a damaged registry of the repository at `root`. */
export function registryDamagedError(root: string, problem: string): RepositoryError {
  return new RepositoryError(
    `the registry is damaged: ${problem} (${join(root, "registry", "data.mdb")})`,
    `restore ${root} from a backup, or delete ${root} and ingest again (the next run recomputes every result)`,
  );
}

/** An LMDB error that means its file is damaged, as a RepositoryError; undefined for any other error. */
export function asRegistryDamage(err: unknown): RepositoryError | undefined {
  const message = err instanceof Error ? err.message : "";
  if (!/^MDB_(CORRUPTED|PAGE_NOTFOUND|INVALID|BAD_TXN|VERSION_MISMATCH)\b/.test(message)) return undefined;
  return new RepositoryError(
    `the registry is damaged (LMDB: ${message})`,
    "restore the repository from a backup, or delete it and ingest again (the next run recomputes every result)",
  );
}

function inspectOpenFile(fd: number): RegistryFileState {
  const size = BigInt(fstatSync(fd).size);
  if (size === 0n) return { kind: "empty" };
  const first = readBytes(fd, 0n, 160);
  const meta0 = readMeta(first, 0n);
  if (typeof meta0 === "string") return { kind: "damaged", problem: meta0 };
  const meta1 = readMeta(readBytes(fd, BigInt(meta0.pageSize), 160), 1n);
  if (typeof meta1 === "string") return { kind: "damaged", problem: meta1 };
  if (meta1.pageSize !== meta0.pageSize) return { kind: "damaged", problem: "its two meta pages disagree on the page size" };
  const pageSize = BigInt(meta0.pageSize);
  for (const meta of [meta0, meta1]) {
    if ((meta.lastPage + 1n) * pageSize > size) {
      return { kind: "damaged", problem: `it is ${size} bytes long, but its pages in use reach ${(meta.lastPage + 1n) * pageSize} (truncated?)` };
    }
  }
  const newer = meta1.txnId > meta0.txnId ? meta1 : meta0;
  for (const [tree, root] of [["free-page", newer.freeRoot], ["main", newer.mainRoot]] as const) {
    const problem = checkRoot(fd, root, newer);
    if (problem !== undefined) return { kind: "damaged", problem: `the root of its ${tree} tree ${problem}` };
  }
  return { kind: "sound" };
}

function readMeta(bytes: Buffer, pageNumber: bigint): Meta | string {
  const where = `meta page ${pageNumber}`;
  if (bytes.length < 160) return `${where} is cut short`;
  if ((bytes.readUInt16LE(18) & P_META) === 0 || bytes.readUInt32LE(24) !== MAGIC) return `${where} has no LMDB header (magic 0xBEEFC0DE)`;
  const pageSize = bytes.readUInt32LE(48);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `${where} gives an impossible page size ${pageSize}`;
  return {
    pageSize,
    freeRoot: bytes.readBigUInt64LE(88),
    mainRoot: bytes.readBigUInt64LE(136),
    lastPage: bytes.readBigUInt64LE(144),
    txnId: bytes.readBigUInt64LE(152),
  };
}

/** Why `root` is not a sound root page of `meta`; undefined when it is (or when the tree is empty). */
function checkRoot(fd: number, root: bigint, meta: Meta): string | undefined {
  if (root === NO_PAGE) return undefined;
  if (root < 2n || root > meta.lastPage) return `is page ${root}, outside pages 2 to ${meta.lastPage}`;
  const header = readBytes(fd, root * BigInt(meta.pageSize), 24);
  if (header.length < 24 || header.readBigUInt64LE(0) !== root) return `(page ${root}) does not hold its own page number`;
  const flags = header.readUInt16LE(18);
  if ((flags & (P_BRANCH | P_LEAF)) === 0 || (flags & P_META) !== 0) return `(page ${root}) is neither a branch nor a leaf`;
  return undefined;
}

function readBytes(fd: number, position: bigint, length: number): Buffer {
  const out = Buffer.alloc(length);
  const read = readSync(fd, out, 0, length, position);
  return out.subarray(0, read);
}
