// The LRU lives in framework/util (btauth, below the axon, uses it too).
export { Lru } from '../util/lru.ts';
