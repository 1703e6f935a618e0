// Web mode's file access: a browser cannot hand the server a path of its own, so picked files are uploaded into a
// server folder (POST /upload) and the import is given that folder's path; a run's artifacts come back as download
// links (GET /download). In Electron the views keep server paths and never call this.
import { pageToken } from './ws-transport.ts'

/** A picked file and the name it gets in the upload folder: `file` or `class/file` (a WAV folder's class). */
export interface UploadItem {
  name: string
  file: Blob
}

interface UploadAnswer {
  path: string
  folder: string
  folderPath: string
}

/** The files of an `<input type=file>`; a picked folder's own name is dropped (`digits/yes/a.wav` → `yes/a.wav`). */
export function pickedFiles(files: FileList | null): UploadItem[] {
  return [...(files ?? [])].map((file) => ({ name: file.webkitRelativePath ? file.webkitRelativePath.split('/').slice(1).join('/') : file.name, file }))
}

/**
 * Uploads the files into one fresh server folder, one after the other, and returns the server path of the file named
 * `open`, or of the folder when `open` is null. Throws with the server's sentence when an upload is refused.
 */
export async function uploadForImport(items: readonly UploadItem[], open: string | null): Promise<string> {
  if (items.length === 0) throw new Error('Choose a file or folder first.')
  let folder: UploadAnswer | null = null
  let opened: string | null = null
  for (const item of items) {
    const query = new URLSearchParams({ name: item.name, ...(folder ? { folder: folder.folder } : {}) })
    const reply = await fetch(`/upload?${query}`, { method: 'POST', headers: { Authorization: `Bearer ${pageToken() ?? ''}` }, body: item.file })
    if (!reply.ok) throw new Error(`Uploading ${item.name} failed: ${(await reply.text()).trim() || reply.statusText}`)
    const answer = (await reply.json()) as UploadAnswer
    folder ??= answer
    if (item.name === open) opened = answer.path
  }
  return open === null ? folder!.folderPath : (opened ?? folder!.path)
}

/** A link that downloads one of a run's recorded artifacts (the token goes in the query: a link has no headers). */
export function artifactDownloadUrl(run: string, artifactPath: string): string {
  const path = artifactPath.split('/').map(encodeURIComponent).join('/')
  return `/download/${encodeURIComponent(run)}/${path}?token=${encodeURIComponent(pageToken() ?? '')}`
}
