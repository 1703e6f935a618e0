// The rooms of the workbench, in navigation order. A room becomes ready when its issue lands.
export interface Room {
  id: RoomId
  label: string
  ready: boolean
  purpose: string
}

export type RoomId = 'runs' | 'models' | 'robustness' | 'quantization' | 'analog' | 'devices' | 'compression' | 'operators' | 'uncertainty'

export const rooms: Room[] = [
  { id: 'runs', label: 'Runs', ready: true, purpose: 'Every past run: browse, tag, annotate, compare and export.' },
  { id: 'models', label: 'Models & Data', ready: true, purpose: 'Datasets, models with their injection points, training and evaluation.' },
  { id: 'robustness', label: 'Robustness', ready: true, purpose: 'Walking-noise sweeps: how robust each layer is against analog noise.' },
  { id: 'quantization', label: 'Quantization', ready: true, purpose: 'Quantization-aware training against noisy training, per bit width.' },
  { id: 'analog', label: 'Analog & HIL', ready: true, purpose: 'The analog processor model, calibration, and simulated against measured accuracy.' },
  { id: 'devices', label: 'Devices', ready: true, purpose: 'Serial analog boards and ARM boards over SSH.' },
  { id: 'compression', label: 'Compression search', ready: true, purpose: 'Pruning and quantization policies searched with latency measured on the board.' },
  { id: 'operators', label: 'Operators', ready: true, purpose: 'Where dense, conv, int8 and bit-serial operators stand against the board’s limits.' },
  { id: 'uncertainty', label: 'Uncertainty', ready: true, purpose: 'Repulsive last-layer ensembles for calibration and OOD detection.' },
]
