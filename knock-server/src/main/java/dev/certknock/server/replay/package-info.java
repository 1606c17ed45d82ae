/**
 * Replay protection for the knock server: {@link dev.certknock.server.replay.ReplayGuard} remembers
 * each accepted knock's (leaf certificate fingerprint, nonce) {@link dev.certknock.server.replay.ReplayKey}
 * for as long as its timestamp is acceptable, answers an early O(1) look-up before the expensive checks,
 * commits atomically after them, and keeps its entries in a compacted append-only journal so replays
 * stay rejected across a restart, including a killed process. A gateway group (several gateways with one knock
 * key) also shares the keys in Redis ({@link dev.certknock.server.replay.RedisReplayStore}, a
 * {@link dev.certknock.server.replay.SharedReplay}), so a knock granted at one gateway is a replay at the others.
 */
package dev.certknock.server.replay;
