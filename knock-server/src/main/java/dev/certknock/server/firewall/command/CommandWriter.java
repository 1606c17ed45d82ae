package dev.certknock.server.firewall.command;

import dev.certknock.server.event.LogText;
import dev.certknock.server.firewall.ElementChange;
import dev.certknock.server.firewall.ElementWriter;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.HeldElement;
import dev.certknock.server.firewall.command.CommandState.Recorded;
import dev.certknock.server.grant.GrantElement;
import dev.certknock.server.process.ProcessRunner;
import dev.certknock.server.process.ProgramRunner;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code command} backend's writer: runs an operator-supplied open command when an element opens and a close
 * command when it closes, for firewalls certknock cannot drive itself (MikroTik, Windows Firewall via PowerShell,
 * cloud security groups). Commands are argv arrays with placeholders ({@link CommandTemplate}), run without a shell,
 * with a timeout; a failure carries the exit code and standard error.
 *
 * <p>Such a firewall does not expire anything by itself ({@link #expiresByItself()} is false): the ledger removes
 * each element at its expiry, and this writer runs its close command. Open elements are recorded in a state file,
 * written before an open command runs and after every change, so a start after a crash gives the ledger every
 * element still open (it closes at once those that expired while the server was down).
 *
 * <p>Idempotency: refreshing an element that is already open does <em>not</em> run the open command again (unless
 * {@link CommandSettings#rerunOpenOnRefresh()}). If an open command fails, the close command runs at once to undo
 * any partial effect. If a close command fails the element stays recorded and open, the batch fails, and the ledger
 * tries again; this writer runs the command again only after {@link CommandSettings#retryDelay()}. Removing an
 * element that is not recorded runs nothing (it was closed already). A batch is not atomic: the commands that
 * succeeded before one failed keep their effect (and their record).
 */
public final class CommandWriter implements ElementWriter {

    private static final Logger LOG = LoggerFactory.getLogger(CommandWriter.class);

    private final CommandSettings settings;
    private final ProgramRunner runner;
    private final Clock clock;
    private final CommandState state;
    private final Map<GrantElement, Recorded> open = new LinkedHashMap<>();
    /** Elements whose close failed, and when their close may run again. */
    private final Map<GrantElement, Instant> retryAt = new HashMap<>();

    public CommandWriter(CommandSettings settings, Clock clock) {
        this(settings, new ProcessRunner(List.of(), settings.commandTimeout()), clock);
    }

    public CommandWriter(CommandSettings settings, ProgramRunner runner, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.runner = Objects.requireNonNull(runner, "runner");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.state = new CommandState(settings.stateFile());
    }

    /** Reads the state file: the elements a run before this one left open. */
    @Override
    public void setUp() throws FirewallException {
        try {
            open.clear();
            open.putAll(state.load());
        } catch (IOException e) {
            throw new FirewallException(e.getMessage(), e);
        }
    }

    @Override
    public void apply(List<ElementChange> batch) throws FirewallException {
        Instant now = clock.instant();
        List<String> failures = new ArrayList<>();
        java.util.Set<GrantElement> added = new java.util.HashSet<>();
        for (ElementChange c : batch) {
            if (c instanceof ElementChange.Add a) {
                added.add(a.element());
            }
        }
        for (ElementChange c : batch) {
            // removed and added in one batch: re-written for another holder; the firewall keeps it open throughout
            if (c instanceof ElementChange.Remove r && !added.contains(r.element())) {
                String failure = close(r.element(), now);
                if (failure != null) {
                    failures.add(r.element() + ": " + failure);
                }
            }
        }
        Map<GrantElement, Recorded> before = new LinkedHashMap<>();
        for (ElementChange c : batch) {
            if (c instanceof ElementChange.Add a) {
                Recorded was = open.get(a.element());
                String failure = open(a, now);
                if (failure != null) {
                    failures.add(a.element() + ": " + failure);
                } else {
                    before.put(a.element(), was);
                }
            }
        }
        if (!failures.isEmpty()) {
            // The ledger records nothing of a failed batch, and only the ledger closes this backend's elements:
            // take back what this batch opened (a refreshed element gets its earlier record back).
            before.forEach((el, was) -> {
                if (was == null) {
                    String undo = close(el, now);
                    if (undo != null) {
                        LOG.warn("could not take back {} after a failed batch: {} (it stays recorded; the next start"
                                + " closes it)", el, LogText.of(undo));
                    }
                } else {
                    open.put(el, was);
                }
            });
            persist();
            throw new FirewallException("firewall command failed for " + String.join("; ", failures), null);
        }
    }

    /** Records the element, then runs the open command when it is new (or always, with rerunOpenOnRefresh). */
    private String open(ElementChange.Add a, Instant now) {
        GrantElement el = a.element();
        Recorded before = open.get(el);
        BigInteger serial = a.serial() != null ? a.serial() : before != null ? before.serial() : BigInteger.ZERO;
        List<String> openArgv;
        try {
            var values = CommandTemplate.values(el.address(), el.ports(), a.timeout(), serial);
            openArgv = settings.open().render(values);
            settings.close().render(values);
        } catch (IllegalArgumentException ex) {
            return ex.getMessage();
        }
        open.put(el, new Recorded(now.plus(a.expires()), a.timeout(), serial, a.comment()));
        retryAt.remove(el);
        String saved = persist();
        if (saved != null) {
            // not recorded: nothing runs, so a crash cannot leave an open the next start does not know of
            if (before == null) {
                open.remove(el);
            } else {
                open.put(el, before);
            }
            return "cannot record it in " + state.file() + ": " + saved;
        }
        if (before != null && !settings.rerunOpenOnRefresh()) {
            return null;
        }
        String failure = run(openArgv);
        if (failure == null) {
            return null;
        }
        LOG.warn("OPEN {} failed: {}; running the close command to undo it", el, LogText.of(failure));
        if (before == null) {
            if (close(el, now) != null) {
                return failure + " (and its close failed: it stays recorded)";
            }
        }
        return failure;
    }

    /** Runs the close command of a recorded element and forgets it; null on success (or when none is recorded). */
    private String close(GrantElement el, Instant now) {
        Recorded r = open.get(el);
        if (r == null) {
            return null;
        }
        Instant retry = retryAt.get(el);
        if (retry != null && now.isBefore(retry)) {
            return "its close command failed before; next try at " + retry;
        }
        String failure;
        try {
            failure = run(settings.close().render(CommandTemplate.values(el.address(), el.ports(), r.duration(),
                    r.serial())));
        } catch (IllegalArgumentException ex) {
            failure = ex.getMessage();
        }
        if (failure != null) {
            retryAt.put(el, now.plus(settings.retryDelay()));
            LOG.warn("CLOSE {} failed: {}; it stays open and is tried again at {}", el, LogText.of(failure),
                    now.plus(settings.retryDelay()));
            return failure;
        }
        open.remove(el);
        retryAt.remove(el);
        String saved = persist();
        if (saved != null) {
            LOG.error("cannot update the open-grant state {}: {}", state.file(), LogText.of(saved));
        }
        return null;
    }

    private String run(List<String> argv) {
        try {
            ProcessRunner.Result r = runner.run(argv);
            return r.succeeded() ? null : r.describe();
        } catch (ProcessRunner.RunException ex) {
            return ex.getMessage();
        }
    }

    /** Saves the state file; null on success, else why not. */
    private String persist() {
        try {
            state.save(open);
            return null;
        } catch (IOException ex) {
            return ex.getMessage();
        }
    }

    @Override
    public List<HeldElement> list() {
        Instant now = clock.instant();
        List<HeldElement> held = new ArrayList<>();
        open.forEach((el, r) -> held.add(new HeldElement(el, Duration.between(now, r.until()), r.comment())));
        return held;
    }

    @Override
    public boolean expiresByItself() {
        return false;
    }

    @Override
    public void warmUp() {
    }

    /** Runs the close command of every recorded element (at stop, with closeOnStop). */
    @Override
    public void removeAll() throws FirewallException {
        List<String> failures = new ArrayList<>();
        Instant now = clock.instant();
        retryAt.clear();
        for (GrantElement el : new ArrayList<>(open.keySet())) {
            String failure = close(el, now);
            if (failure != null) {
                failures.add(el + ": " + failure);
            }
        }
        if (!failures.isEmpty()) {
            throw new FirewallException("close command failed for " + String.join("; ", failures)
                    + " (they stay in " + state.file() + " and the next start closes them)", null);
        }
    }

    /**
     * Elements recorded as open (including those whose close is being retried), as {@code 192.0.2.1 tcp/22}. Read it
     * under the ledger's lock, or when the ledger is idle (tests).
     */
    public List<String> elements() {
        return open.keySet().stream().map(GrantElement::toString).toList();
    }

    @Override
    public String describe() {
        return "backend command, state in " + state.file() + ", one open or close command per element";
    }

    @Override
    public void close() {
    }
}
