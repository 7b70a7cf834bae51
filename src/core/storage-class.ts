/** How a dataset is serialised. */
export type StorageClass = "json" | "text" | "bytes" | "ndarray" | "file";

export const STORAGE_CLASSES: readonly StorageClass[] = ["json", "text", "bytes", "ndarray", "file"];

export type NdDtype = "float32" | "float64" | "int32" | "uint8" | "int16" | "uint16" | "int64";

/** An n-dimensional array, C order. The `ndarray` storage class reads and writes NumPy `.npy` v1 files. */
export interface NdArray {
  dtype: NdDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array | Int16Array | Uint16Array | BigInt64Array;
}
