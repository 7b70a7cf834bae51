/**
 * Bounds on the names a pipeline file gives, checked when it is loaded (pipeline-resolver.ts,
 * resolve-task.ts).
 *
 * Task labels, dataset type names and dimension names are parts of registry keys, whose length LMDB
 * bounds (store/registry-key.ts): with the output collection's bound (check-output-collection.ts), a
 * name within this one leaves room for the data ID. A longer one was refused only when a run came to
 * record it, after its quanta had run. A command task's connection names are parts of file names in
 * its sandbox (`inputs/<name>.list`), which file systems bound at 255 bytes.
 */
export const MAX_NAME_BYTES = 200;

/** A name as an error quotes it: its first 60 characters. */
export const shortened = (name: string): string => (name.length > 60 ? `${name.slice(0, 60)}…` : name);

/** How `name` exceeds MAX_NAME_BYTES (`201 bytes, at most 200`); undefined when it does not. */
export function nameTooLong(name: string): string | undefined {
  const bytes = Buffer.byteLength(name, "utf8");
  return bytes > MAX_NAME_BYTES ? `${bytes} bytes, at most ${MAX_NAME_BYTES}` : undefined;
}
