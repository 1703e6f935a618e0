// The shape every service fills in: one handler per contract method, receiving arguments already validated.
import type { MethodName, ParsedArgsOf, ResultOf } from '../contract/index.ts'

export type Handler<M extends MethodName> = (args: ParsedArgsOf<M>) => ResultOf<M> | Promise<ResultOf<M>>
export type Handlers = { [M in MethodName]: Handler<M> }
export type HandlersFor<M extends MethodName> = { [K in M]: Handler<K> }
