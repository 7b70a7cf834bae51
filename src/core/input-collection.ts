/**
 * Where a pipeline's ingested inputs live. Each pipeline has its own input collection, `raw/<name>`
 * (the name is the pipeline file's base name, as for the default output collection), so that another
 * pipeline of the same repository that declares an input type of the same name (at other paths, or
 * with another storage class) never replaces or removes its datasets; its relations are kept per
 * input collection too (`raw/<name>/<relation>`).
 *
 * Repositories written before this version hold every pipeline's inputs in one shared `raw`
 * collection, with relations under their bare names. Nothing reads or writes those any more (ingest
 * fills the new collection from the files, and unchanged files are not read again: their file states
 * are kept by path); they stay listed by `quanta datasets` until deleted with the repository.
 */

/** The collection a shared-`raw` repository (before per-pipeline input collections) ingested into. */
export const LEGACY_INPUT_COLLECTION = "raw";

/** The input collection of the pipeline named `pipelineName`: `raw/<name>`. */
export function inputCollectionOf(pipelineName: string): string {
  return `${LEGACY_INPUT_COLLECTION}/${pipelineName}`;
}

/** The registry name of relation `relation` of an input collection (its bare name in the legacy `raw`). */
export function relationKeyOf(inputCollection: string, relation: string): string {
  return inputCollection === LEGACY_INPUT_COLLECTION ? relation : `${inputCollection}/${relation}`;
}

/**
 * The collection a dataset of `type` that no task of the plan produces is read from, for the graph
 * builder and the quantum resolver alike: a type the pipeline ingests from files comes from its input
 * collection; any other type (written by an earlier pipeline, or `quanta ingest`ed under its name) from
 * the output collection when that holds any dataset of the type, else from the input collection.
 */
export function sourceCollectionOf(
  type: string,
  where: { ingestedTypes: ReadonlySet<string>; inputCollection: string; outputCollection: string; outputHas: (type: string) => boolean },
): string {
  if (where.ingestedTypes.has(type)) return where.inputCollection;
  return where.outputHas(type) ? where.outputCollection : where.inputCollection;
}
