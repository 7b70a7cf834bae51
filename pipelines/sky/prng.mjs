/**
 * A small seeded pseudo-random generator (mulberry32), so generated data is identical on every machine
 * and every run. Math.random is never used.
 */

/**
 * Returns a function that yields uniform numbers in [0, 1) from a 32-bit seed.
 * @param {number} seed
 * @returns {() => number}
 */
export function createRandom(seed) {
  let state = seed >>> 0;
  return function nextUniform() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Returns a function that yields standard normal deviates (Box–Muller) drawn from `uniform`.
 * @param {() => number} uniform
 * @returns {() => number}
 */
export function createGaussian(uniform) {
  let spare = NaN;
  return function nextGaussian() {
    if (!Number.isNaN(spare)) {
      const value = spare;
      spare = NaN;
      return value;
    }
    const u = 1 - uniform(); // in (0, 1]: log(u) is finite
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}
