/** A dimension's value type. `int` values are JavaScript integers; `string` values are any text. */
export type DimensionType = "int" | "string";

/** The dimensions a pipeline declares, by name. */
export type DimensionUniverse = Readonly<Record<string, DimensionType>>;

export const DIMENSION_TYPES: readonly DimensionType[] = ["int", "string"];
