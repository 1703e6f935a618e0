import { readIdxFolder, FASHION_MNIST_CLASSES } from '../src-main/engine/data/sources.ts'
const d = readIdxFolder('/tmp/fmnist/usr/share/datasets/fashion-mnist', { id: 'fashion-mnist', name: 'x', classNames: FASHION_MNIST_CLASSES })
const per = new Array(10).fill(0); for (const l of d.test.y) per[l]++
console.log(d.sampleShape, d.train.count, d.test.count, per, d.classNames.length)
