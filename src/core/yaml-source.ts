/**
 * A parsed YAML file that remembers where every value came from, so that any later check can point at
 * the exact key or value it is unhappy with (see source-error.ts for the output format).
 */
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit, type Document, type Node, type Pair, type YAMLMap } from "yaml";
import { PipelineError } from "./pipeline-error.js";
import { suggestName } from "./suggest-name.js";
import type { SourceSpan } from "./source-error.js";

/** A path into the document: map keys and sequence indexes, as in zod issue paths. */
export type YamlPath = readonly (string | number)[];

/** Point at the value found at the path, or at the key that names it. */
export type SpanTarget = "value" | "key";

export interface ErrorAtOptions {
  readonly hint?: string;
  readonly target?: SpanTarget;
  /** Underline only part of a string value: `[index, length]` into the parsed string. */
  readonly within?: readonly [number, number];
}

/** The yaml package's limit on how often aliases may repeat a node's expansion (its default). */
const MAX_ALIAS_COUNT = 100;

export type YamlSourceParse = { ok: true; source: YamlSource } | { ok: false; error: PipelineError };

export class YamlSource {
  private constructor(
    /** The file name as shown to the user. */
    readonly file: string,
    readonly text: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; a YAML syntax error (or a duplicated key) is returned with its position. */
  static parse(file: string, text: string): YamlSourceParse {
    const lines = new LineCounter();
    // `merge`: YAML merge keys (`<<: *common`) take the entries of the mappings they name.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, keepSourceTokens: true, merge: true });
    const source = new YamlSource(file, text, doc, lines);
    const first = doc.errors[0];
    if (first !== undefined) {
      const [start, end] = first.pos;
      if (first.code === "DUPLICATE_KEY") {
        const key = /^[^:\n]*?(?=\s*:)/.exec(text.slice(start))?.[0] ?? "";
        return {
          ok: false,
          error: source.errorAtOffsets(start, start + Math.max(1, key.length), `invalid YAML: key ${JSON.stringify(key.trim())} appears twice in one mapping`, "merge the two entries"),
        };
      }
      const message = first.message.split("\n")[0]!.replace(/^./, (c) => c.toLowerCase());
      return { ok: false, error: source.errorAtOffsets(start, Math.max(end, start + 1), `invalid YAML: ${message}`) };
    }
    const aliasProblem = source.checkAliases();
    if (aliasProblem !== undefined) return { ok: false, error: aliasProblem };
    return { ok: true, source };
  }

  /** The document as plain JavaScript values (checked by `parse`: no recursive alias, no alias bomb). */
  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  }

  /**
   * An alias that names no anchor before it (a misspelt name, or an anchor written further down), an
   * alias inside the node it names (a cyclic value), and aliases of aliases that expand a small file
   * into billions of nodes (an "alias bomb") are errors at the alias.
   */
  private checkAliases(): PipelineError | undefined {
    let problem: PipelineError | undefined;
    const anchors: string[] = [];
    visit(this.doc, {
      Node: (_key, node) => {
        if (node.anchor !== undefined) anchors.push(node.anchor);
      },
      Alias: (_key, alias, path) => {
        const target = alias.resolve(this.doc);
        if (target === undefined) {
          const hint = suggestName(alias.source, anchors) ?? (anchors.length === 0 ? "the file has no anchor (&name)" : `anchors before it: ${anchors.map((a) => `&${a}`).join(", ")}`);
          problem = this.errorAtOffsets(alias.range![0], alias.range![1], `invalid YAML: alias *${alias.source} names no anchor before it`, hint);
          return visit.BREAK;
        }
        if (path.includes(target)) {
          problem = this.errorAtOffsets(alias.range![0], alias.range![1], `invalid YAML: alias *${alias.source} is inside the value it names`, "a value cannot contain itself; copy the part you need");
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (problem !== undefined) return problem;
    try {
      this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      if (!(err instanceof ReferenceError) && !/alias/i.test((err as Error).message)) throw err;
      let first: [number, number] = [0, 1];
      visit(this.doc, { Alias: (_key, alias) => ((first = [alias.range![0], alias.range![1]]), visit.BREAK) });
      return this.errorAtOffsets(first[0], first[1], "invalid YAML: its aliases expand to too many values (an alias bomb?)", `at most ${MAX_ALIAS_COUNT} uses of one anchor's expansion; write the values out`);
    }
    return undefined;
  }

  /** Where the value (or key) at `path` is; when the path does not exist, the deepest part that does. */
  spanOf(path: YamlPath, target: SpanTarget = "value"): SourceSpan | undefined {
    const range = this.rangeOf(path, target);
    return range === undefined ? undefined : this.spanOfOffsets(range[0], range[1]);
  }

  /** Whether the document has a value (possibly null) at `path`. */
  has(path: YamlPath): boolean {
    return this.walk(path).complete;
  }

  /** A pipeline error pointing into this file. */
  errorAt(path: YamlPath, summary: string, options: ErrorAtOptions = {}): PipelineError {
    let range = this.rangeOf(path, options.target ?? "value");
    if (range !== undefined && options.within !== undefined) {
      range = this.narrow(path, range, options.within) ?? range;
    }
    if (range === undefined) return new PipelineError({ summary, file: this.file, text: this.text, hint: options.hint });
    return this.errorAtOffsets(range[0], range[1], summary, options.hint);
  }

  private errorAtOffsets(start: number, end: number, summary: string, hint?: string): PipelineError {
    return new PipelineError({ summary, file: this.file, text: this.text, span: this.spanOfOffsets(start, end), hint });
  }

  private spanOfOffsets(start: number, end: number): SourceSpan {
    const pos = this.lines.linePos(Math.min(start, this.text.length));
    return { line: pos.line, column: pos.col, length: Math.max(1, end - start) };
  }

  private walk(path: YamlPath): { node: Node | null; key: Node | null; complete: boolean } {
    let node: Node | null = (this.doc.contents as Node | null) ?? null;
    let key: Node | null = null;
    for (const segment of path) {
      if (isAlias(node)) node = (node.resolve(this.doc) as Node | undefined) ?? null;
      if (isMap(node)) {
        const pair = this.findPair(node, String(segment), 0);
        if (pair === undefined) return { node, key, complete: false };
        key = pair.key as Node;
        node = (pair.value as Node | null) ?? null;
        if (node === null) return { node: null, key, complete: true };
      } else if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
        key = null;
        node = (node.items[segment] as Node | null) ?? null;
      } else {
        return { node, key, complete: false };
      }
    }
    return { node, key, complete: true };
  }

  /**
   * The entry `name` of a mapping: its own, else one a merge key (`<<: *common`, `<<: [*a, *b]`) brings
   * in, found where the anchored mapping writes it (the first merged mapping that has it wins, as in
   * the value). `depth` stops a merge that names its own mapping.
   */
  private findPair(map: YAMLMap, name: string, depth: number): Pair | undefined {
    const own = map.items.find((p) => isScalar(p.key) && String(p.key.value) === name);
    if (own !== undefined || depth > 8) return own;
    for (const p of map.items) {
      if (!isScalar(p.key) || (p.key.source ?? String(p.key.value)) !== "<<") continue;
      const sources = isSeq(p.value) ? p.value.items : [p.value];
      for (const source of sources) {
        const merged = isAlias(source) ? source.resolve(this.doc) : source;
        const found = isMap(merged) ? this.findPair(merged, name, depth + 1) : undefined;
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  private rangeOf(path: YamlPath, target: SpanTarget): [number, number] | undefined {
    const { node, key, complete } = this.walk(path);
    const keyRange = key?.range ? ([key.range[0], key.range[1]] as [number, number]) : undefined;
    if (target === "key" && keyRange !== undefined) return keyRange;
    // A missing entry is reported at the key of the map that should hold it.
    if (!complete && keyRange !== undefined) return keyRange;
    if (node === null || node.range == null) return keyRange;
    // A block collection spans many lines: its key says more than its first line.
    if (isCollection(node) && !node.flow && keyRange !== undefined) return keyRange;
    return [node.range[0], node.range[1]];
  }

  /** The source range of part of a string scalar, when the scalar is written without escapes. */
  private narrow(path: YamlPath, range: [number, number], within: readonly [number, number]): [number, number] | undefined {
    const { node, complete } = this.walk(path);
    if (!complete || !isScalar(node) || typeof node.value !== "string") return undefined;
    const value = node.value;
    const raw = this.text.slice(range[0], range[1]);
    let start: number;
    if (node.type === Scalar.PLAIN && raw === value) start = range[0];
    else if ((node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) && raw.slice(1, -1) === value) start = range[0] + 1;
    else return undefined;
    return [start + within[0], start + within[0] + within[1]];
  }
}
