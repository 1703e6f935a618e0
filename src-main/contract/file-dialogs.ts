// The desktop's native file dialogs, as the preload offers them to the page (window.benchsideDialogs): a save dialog
// for exports, an open dialog for imports. Not API methods: only Electron has them, and they answer a path chosen by
// the user on this computer (or null when cancelled). Web mode uses downloads and uploads instead.
import { z } from 'zod'

const Filter = z.object({ name: z.string().min(1).max(100), extensions: z.array(z.string().regex(/^[A-Za-z0-9*]{1,16}$/)).max(20) })

export const FileDialogRequest = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('save'),
    title: z.string().max(200),
    /** The file name offered (no folders: the dialog starts in the user's usual place). */
    defaultName: z
      .string()
      .max(255)
      .regex(/^[^/\\]*$/),
    filters: z.array(Filter).max(10).default([]),
  }),
  z.object({
    mode: z.literal('open'),
    title: z.string().max(200),
    /** A folder (e.g. an IDX dataset, or where to export a LayersModel) instead of a file. */
    folder: z.boolean().default(false),
    filters: z.array(Filter).max(10).default([]),
  }),
])
export type FileDialogRequest = z.input<typeof FileDialogRequest>

export const FileDialogReply = z.object({ path: z.string().nullable() })
export type FileDialogReply = z.infer<typeof FileDialogReply>

/** What the preload exposes as window.benchsideDialogs. */
export interface BenchsideDialogs {
  /** The path the user chose, or null when they cancelled. */
  choose(request: FileDialogRequest): Promise<string | null>
}
