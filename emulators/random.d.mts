export function seededRandom(seed: number, stream: string): () => number;
