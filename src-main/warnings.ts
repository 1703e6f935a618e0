// tfjs still calls `new Buffer()`; Node's DEP0005 warning about it says nothing a Benchside user can act on.
process.removeAllListeners('warning')
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code !== 'DEP0005') console.warn(`${warning.name}: ${warning.message}`)
})
