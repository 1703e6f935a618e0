// The contract room's public face: import from here, never from the files inside.
export * from './api.ts'
export * from './define.ts'
export * from './runs.ts'
export * from './jobs.ts'
export * from './app.ts'
export * from './models.ts'
export * from './boards.ts'
export * from './client.ts'
