/**
 * A zone's `/chosen/kaslr-seed`: real boards' firmware (U-Boot, EFI) hands Linux one, so its kernel
 * and modules run at randomised addresses. Derived from the run's seed and the zone id, so every zone
 * gets its own and a run repeats exactly (same seed, same addresses: virtual time stays deterministic).
 */
export function zoneKaslrSeed(runSeed: bigint, zoneId: number): bigint {
  // SplitMix64's finaliser: neighbouring zone ids land far apart.
  let z = BigInt.asUintN(64, runSeed + BigInt(zoneId + 1) * 0x9e3779b97f4a7c15n);
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  z ^= z >> 31n;
  return z === 0n ? 1n : z; // Linux reads a zero seed as "no seed"
}
