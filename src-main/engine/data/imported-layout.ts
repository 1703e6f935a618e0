// How an imported dataset's folder is laid out, shared by the import (which writes it) and the catalog (which records
// where to load it from). Kept free of other imports so the main process can use it without loading tfjs.
import { join } from 'node:path'

/** An imported NPZ is kept under this name inside its dataset folder. */
export const IMPORTED_NPZ = 'data.npz'

/** What the registry loads: the NPZ file for 'npz', the folder itself for IDX files and WAV class folders. */
export function importedDatasetPath(folder: string, format: 'idx' | 'npz' | 'wav-folder'): string {
  return format === 'npz' ? join(folder, IMPORTED_NPZ) : folder
}
