// IPC channel names, shared by the main process and the preload. Only these three exist.
export const CALL_CHANNEL = 'benchside:call'
export const EVENT_CHANNEL = 'benchside:event'
/** The native save/open dialogs for exports and imports (desktop/dialogs.ts). */
export const DIALOG_CHANNEL = 'benchside:dialog'
