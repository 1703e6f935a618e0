// IPC channel names, shared by the main process and the preload. Only these two exist.
export const CALL_CHANNEL = 'benchside:call'
export const EVENT_CHANNEL = 'benchside:event'
