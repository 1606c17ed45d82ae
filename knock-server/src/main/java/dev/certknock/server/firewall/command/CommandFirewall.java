package dev.certknock.server.firewall.command;

import dev.certknock.server.process.ProcessRunner;
import dev.certknock.protocol.grant.PortGrant;
import dev.certknock.server.event.KnockEventListener;
import dev.certknock.server.event.LogText;
import dev.certknock.server.firewall.Firewall;
import dev.certknock.server.firewall.FirewallException;
import dev.certknock.server.firewall.GrantOutcome;
import dev.certknock.server.grant.CertRef;
import dev.certknock.server.grant.CloseReason;
import dev.certknock.server.firewall.command.CommandState.Element;
import dev.certknock.server.grant.GrantDecision;
import dev.certknock.server.schedule.PrivateScheduler;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobDataMap;
import org.quartz.JobExecutionContext;
import org.quartz.JobExecutionException;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code command} backend: runs an operator-supplied open command when a grant opens and a close command
 * when it ends, for firewalls certknock cannot drive itself (MikroTik, Windows Firewall via PowerShell, cloud
 * security groups). Commands are argv arrays with placeholders ({@link CommandTemplate}), run without a shell,
 * with a timeout; a failure becomes a {@link FirewallException} carrying the exit code and standard error.
 *
 * <p>One command runs per address and port range ("element"). Closing is scheduled with Quartz at the
 * grant's expiry (a private scheduler: in-memory job store, one thread). Open elements are recorded in a
 * state file, written before the open command runs and after every change, so that a start after a crash
 * closes at once every element that expired while the server was down, and reschedules the others.
 *
 * <p>Idempotency: knocking again for an element that is already open does <em>not</em> run the open command
 * again (unless {@link CommandSettings#rerunOpenOnRefresh()}); it moves the one scheduled close to the new
 * expiry. There is only ever one close per element. As in {@code LogFirewall}, the latest grant for an element
 * owns it (its expiry and certificate apply). If an open command fails, the close command runs at once to undo
 * any partial effect. If a close command fails it is retried after {@link CommandSettings#retryDelay()} until
 * it succeeds (the element stays in the state file meanwhile).
 */
public final class CommandFirewall implements Firewall {

    /** The Quartz job: calls back into the firewall that scheduled it. Not for direct use. */
    @DisallowConcurrentExecution
    public static final class CloseJob implements Job {
        @Override
        public void execute(JobExecutionContext context) throws JobExecutionException {
            try {
                CommandFirewall fw = (CommandFirewall) context.getScheduler().getContext().get(CONTEXT_KEY);
                JobDataMap data = context.getMergedJobDataMap();
                fw.fired(data.getString(DATA_ELEMENT), data.getLong(DATA_EXPIRY));
            } catch (SchedulerException e) {
                throw new JobExecutionException(e);
            }
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(CommandFirewall.class);
    private static final String CONTEXT_KEY = "certknock.commandFirewall";
    private static final String DATA_ELEMENT = "element";
    private static final String DATA_EXPIRY = "expiry";
    private static final String GROUP = "command-close";

    private final CommandSettings settings;
    private final Clock clock;
    private final KnockEventListener listener;
    private final ProcessRunner runner;
    private final CommandState state;
    private final Scheduler scheduler;
    private final JobKey jobKey = JobKey.jobKey("close", GROUP);
    /** Open (or close-pending) elements and the grant that owns each; guarded by this. */
    private final Map<Element, GrantDecision> open;
    private final Map<String, Element> byKey = new LinkedHashMap<>();
    private boolean closed;

    private CommandFirewall(CommandSettings settings, Clock clock, KnockEventListener listener,
            Map<Element, GrantDecision> loaded) throws SchedulerException {
        this.settings = settings;
        this.clock = clock;
        this.listener = listener;
        this.runner = new ProcessRunner(List.of(), settings.commandTimeout());
        this.state = new CommandState(settings.stateFile());
        this.open = loaded;
        loaded.keySet().forEach(e -> byKey.put(e.key(), e));
        this.scheduler = PrivateScheduler.create("command-close", Duration.ofSeconds(1));
        scheduler.getContext().put(CONTEXT_KEY, this);
        scheduler.addJob(JobBuilder.newJob(CloseJob.class).withIdentity(jobKey).storeDurably().build(), true);
    }

    /**
     * Reads the state file, closes at once every recorded element whose grant expired while the server was
     * not running (a failed close is retried later, it does not stop the start), schedules the close of the
     * others, and starts the scheduler.
     *
     * @throws FirewallException when the state file exists but cannot be read, or the scheduler cannot start
     */
    public static CommandFirewall start(CommandSettings settings, Clock clock, KnockEventListener listener)
            throws FirewallException {
        Objects.requireNonNull(settings, "settings");
        Map<Element, GrantDecision> loaded;
        try {
            loaded = new CommandState(settings.stateFile()).load();
        } catch (IOException e) {
            throw new FirewallException(e.getMessage(), e);
        }
        CommandFirewall fw;
        try {
            fw = new CommandFirewall(settings, clock, listener, loaded);
        } catch (SchedulerException e) {
            throw new FirewallException("could not create the close scheduler: " + e.getMessage(), e);
        }
        fw.reconcile();
        try {
            fw.scheduler.start();
        } catch (SchedulerException e) {
            fw.close();
            throw new FirewallException("could not start the close scheduler: " + e.getMessage(), e);
        }
        return fw;
    }

    private synchronized void reconcile() {
        Instant now = clock.instant();
        int reclosed = 0;
        int rescheduled = 0;
        for (Map.Entry<Element, GrantDecision> en : new ArrayList<>(open.entrySet())) {
            Element e = en.getKey();
            GrantDecision d = en.getValue();
            if (d.expiresAt().isAfter(now)) {
                schedule(e, d.expiresAt(), d.expiresAt());
                rescheduled++;
            } else {
                LOG.info("CLOSE {} at start: its grant expired at {} while the server was not running", e.key(),
                        d.expiresAt());
                runClose(e, d, CloseReason.EXPIRED);
                reclosed++;
            }
        }
        if (reclosed + rescheduled > 0) {
            LOG.info("command firewall: {} grant element(s) from {} closed at start, {} rescheduled", reclosed,
                    state.file(), rescheduled);
        }
    }

    @Override
    public synchronized GrantOutcome open(GrantDecision d) throws FirewallException {
        if (closed) {
            throw new FirewallException("the command firewall is closed", null);
        }
        List<Element> elements = new ArrayList<>();
        Map<Element, List<String>> openArgv = new LinkedHashMap<>();
        for (PortGrant g : d.grants()) {
            Element e = new Element(d.address(), g);
            elements.add(e);
            try {
                var values = CommandTemplate.values(d.address(), g, d.duration(), d.serial());
                openArgv.put(e, settings.open().render(values));
                settings.close().render(values);
            } catch (IllegalArgumentException ex) {
                throw new FirewallException("cannot open " + e.key() + ": " + ex.getMessage(), ex);
            }
        }
        List<Element> fresh = elements.stream().filter(e -> !open.containsKey(e)).toList();
        if (open.size() + fresh.size() > settings.maxEntries()) {
            return new GrantOutcome.Refused(GrantOutcome.Refusal.TOTAL_LIMIT, "the grant table is full ("
                    + settings.maxEntries() + " entries)");
        }
        Map<Element, GrantDecision> before = new LinkedHashMap<>();
        for (Element e : elements) {
            GrantDecision old = open.put(e, d);
            if (old != null) {
                before.put(e, old);
            }
            byKey.put(e.key(), e);
        }
        try {
            // recorded before anything runs: a crash from here on is closed by the next start
            state.save(open);
        } catch (IOException ex) {
            elements.forEach(e -> {
                GrantDecision old = before.get(e);
                if (old == null) {
                    open.remove(e);
                    byKey.remove(e.key());
                } else {
                    open.put(e, old);
                }
            });
            throw new FirewallException("cannot record the grant in " + state.file() + ": " + ex.getMessage(), ex);
        }
        List<String> failures = new ArrayList<>();
        for (Element e : elements) {
            boolean refresh = before.containsKey(e);
            if (!refresh || settings.rerunOpenOnRefresh()) {
                String failure = runOpen(openArgv.get(e));
                if (failure != null) {
                    failures.add(e.key() + ": " + failure);
                    LOG.warn("OPEN {} failed: {}; running the close command to undo it", e.key(), LogText.of(failure));
                    if (!refresh) {
                        runClose(e, d, null);
                        continue;
                    }
                }
            }
            schedule(e, d.expiresAt(), d.expiresAt());
        }
        persist();
        if (!failures.isEmpty()) {
            throw new FirewallException("open command failed for " + String.join("; ", failures), null);
        }
        LOG.info("GRANT {} {} for {} s (until {}) to {} serial {}", d.address().getHostAddress(), d.grants(),
                d.duration().toSeconds(), d.expiresAt(), LogText.of(d.subject().getName()), d.serial().toString(16));
        listener.grantOpened(d);
        return GrantOutcome.OPENED;
    }

    /** Runs an open command; returns null on success, else why it failed. */
    private String runOpen(List<String> argv) {
        try {
            ProcessRunner.Result r = runner.run(argv);
            return r.succeeded() ? null : r.describe();
        } catch (ProcessRunner.RunException ex) {
            return ex.getMessage();
        }
    }

    /**
     * Runs the close command for one element. On success the element is forgotten (and its grant reported
     * closed once its last element is gone); on failure a retry is scheduled.
     *
     * @return null on success, else why it failed
     */
    private String runClose(Element e, GrantDecision d, CloseReason why) {
        String failure;
        try {
            List<String> argv = settings.close()
                    .render(CommandTemplate.values(e.address(), e.grant(), d.duration(), d.serial()));
            ProcessRunner.Result r = runner.run(argv);
            failure = r.succeeded() ? null : r.describe();
        } catch (ProcessRunner.RunException | IllegalArgumentException ex) {
            failure = ex.getMessage();
        }
        if (failure != null) {
            listener.internalError("firewall command close " + e.key(), new FirewallException(failure, null));
            if (closed) {
                LOG.warn("CLOSE {} ({}) failed: {}; it stays in {} and the next start tries again", e.key(), why,
                        LogText.of(failure), state.file());
                return failure;
            }
            Instant retry = Instant.now().plus(settings.retryDelay());
            LOG.warn("CLOSE {} ({}) failed: {}; retrying at {}", e.key(), why, LogText.of(failure), retry);
            schedule(e, retry, d.expiresAt());
            return failure;
        }
        open.remove(e);
        byKey.remove(e.key());
        if (!closed) {
            unschedule(e);
        }
        persist();
        LOG.info("CLOSE {} ({}) serial {}", e.key(), why == null ? "its open command failed" : why.label(), d.serial().toString(16));
        if (why != null && !open.containsValue(d)) {
            listener.grantClosed(d, why);
        }
        return null;
    }

    /** A close trigger fired: close the element unless a later knock moved its expiry. */
    private synchronized void fired(String key, long scheduledExpiryMillis) {
        if (closed) {
            return;
        }
        Element e = byKey.get(key);
        GrantDecision d = e == null ? null : open.get(e);
        if (d == null) {
            return;
        }
        if (d.expiresAt().toEpochMilli() > scheduledExpiryMillis) {
            // refreshed after this firing was due: the trigger for the new expiry is in place
            return;
        }
        runClose(e, d, CloseReason.EXPIRED);
    }

    private void schedule(Element e, Instant at, Instant expiry) {
        TriggerKey key = TriggerKey.triggerKey(e.key(), GROUP);
        Trigger t = TriggerBuilder.newTrigger().withIdentity(key).forJob(jobKey)
                .usingJobData(DATA_ELEMENT, e.key()).usingJobData(DATA_EXPIRY, expiry.toEpochMilli())
                .startAt(Date.from(at))
                .withSchedule(SimpleScheduleBuilder.simpleSchedule().withMisfireHandlingInstructionFireNow())
                .build();
        try {
            if (scheduler.rescheduleJob(key, t) == null) {
                scheduler.scheduleJob(t);
            }
        } catch (SchedulerException ex) {
            LOG.error("could not schedule the close of {} at {}: {}", e.key(), at, LogText.of(ex.getMessage()));
            listener.internalError("firewall command schedule " + e.key(), ex);
        }
    }

    private void unschedule(Element e) {
        try {
            scheduler.unscheduleJob(TriggerKey.triggerKey(e.key(), GROUP));
        } catch (SchedulerException ex) {
            LOG.warn("could not cancel the close trigger of {}: {}", e.key(), LogText.of(ex.getMessage()));
        }
    }

    private void persist() {
        try {
            state.save(open);
        } catch (IOException ex) {
            LOG.error("cannot update the open-grant state {}: {}", state.file(), LogText.of(ex.getMessage()));
            listener.internalError("firewall command state", ex);
        }
    }

    /** Closes the elements of every grant held under one of these certificates (its leaf or a CA of its path). */
    @Override
    public synchronized int revoke(Set<CertRef> revoked) throws FirewallException {
        Set<String> tags = new HashSet<>();
        revoked.forEach(r -> tags.add(r.tag()));
        Set<GrantDecision> decisions = new LinkedHashSet<>();
        List<String> failures = new ArrayList<>();
        for (Map.Entry<Element, GrantDecision> en : new ArrayList<>(open.entrySet())) {
            GrantDecision d = en.getValue();
            if (d.holder().heldUnderAny(tags)) {
                decisions.add(d);
                String failure = runClose(en.getKey(), d, CloseReason.REVOKED);
                if (failure != null) {
                    failures.add(en.getKey().key() + ": " + failure);
                }
            }
        }
        if (!failures.isEmpty()) {
            throw new FirewallException("close command failed for " + failures.size() + " element(s) of revoked"
                    + " certificates (retrying in " + settings.retryDelay().toSeconds() + " s): "
                    + String.join("; ", failures), null);
        }
        return decisions.size();
    }

    @Override
    public synchronized List<GrantDecision> active(Instant now) {
        return open.values().stream().filter(d -> d.expiresAt().isAfter(now)).distinct().toList();
    }

    /** Elements recorded as open (including those whose close is being retried), as {@code 192.0.2.1 tcp/22}. */
    public synchronized List<String> elements() {
        return List.copyOf(byKey.keySet());
    }

    /**
     * Stops the scheduler (waiting for a close in progress). With {@link CommandSettings#closeOnStop()} every
     * recorded element is closed now; otherwise they stay recorded and the next start closes or reschedules
     * them.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            scheduler.shutdown(true);
        } catch (SchedulerException e) {
            LOG.warn("could not stop the close scheduler: {}", LogText.of(e.getMessage()));
        }
        synchronized (this) {
            if (settings.closeOnStop()) {
                for (Map.Entry<Element, GrantDecision> en : new ArrayList<>(open.entrySet())) {
                    runClose(en.getKey(), en.getValue(), CloseReason.STOPPED);
                }
            }
        }
    }
}
