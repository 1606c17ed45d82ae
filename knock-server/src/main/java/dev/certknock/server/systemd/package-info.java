/**
 * systemd integration of {@code knock-server run}: readiness, status and watchdog messages (sd_notify(3)) and
 * syslog priorities on stderr when stderr is the journal. See docs/DEPLOYMENT.md, section "systemd", and
 * docs/DESIGN.md D29.
 *
 * <ul>
 *   <li>{@link dev.certknock.server.systemd.Notifier}: where messages go. Nothing at all when
 *       {@code NOTIFY_SOCKET} is unset; otherwise {@code sd_notify} of libsystemd through JNA, or, when
 *       libsystemd cannot be loaded, the same datagram sent through libc ({@link
 *       dev.certknock.server.systemd.DatagramNotifier}).</li>
 *   <li>{@link dev.certknock.server.systemd.Liveness}: whether the capture thread, the workers, the dispatch
 *       queue and the housekeeping thread still make progress.</li>
 *   <li>{@link dev.certknock.server.systemd.ServiceNotifications}: {@code READY=1} once the server has started,
 *       {@code STATUS=} with the counters, {@code WATCHDOG=1} only while the liveness check passes,
 *       {@code STOPPING=1} at stop.</li>
 *   <li>{@link dev.certknock.server.systemd.JournalPriorityConverter}: {@code <N>} prefixes in logback's
 *       pattern when {@code JOURNAL_STREAM} names stderr.</li>
 * </ul>
 */
package dev.certknock.server.systemd;
