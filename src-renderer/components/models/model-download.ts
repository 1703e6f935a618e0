// Web mode: a model's weights as an NPZ download, made by the server when the link is followed (GET /export-model).
import { pageToken } from '../../lib/ws-transport.ts'

export function npzDownloadUrl(model: string, name: string): string {
  const query = new URLSearchParams({ token: pageToken() ?? '', name })
  return `/export-model/${encodeURIComponent(model)}/weights.npz?${query}`
}
