/**
 * Replay protection for the knock server: {@link dev.certknock.server.replay.ReplayGuard} remembers
 * each accepted knock's (leaf certificate fingerprint, nonce) {@link dev.certknock.server.replay.ReplayKey}
 * for as long as its timestamp is acceptable, answers an early O(1) look-up before the expensive checks,
 * commits atomically after them, and keeps its entries in a compacted append-only journal so replays
 * stay rejected across a restart, including a killed process.
 */
package dev.certknock.server.replay;
