package dev.certknock.server.schedule;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.impl.StdSchedulerFactory;

/**
 * The Quartz schedulers the server owns (CRL refresh, command-backend closes): each its own in-memory
 * scheduler with one daemon thread, a unique instance name (Quartz keeps a process-wide registry by name),
 * no update check and no JMX. Not started: the caller adds its jobs and starts it.
 */
public final class PrivateScheduler {

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private PrivateScheduler() {
    }

    /**
     * @param purpose a short name, for the instance name and the thread name
     * @param misfireThreshold how late a trigger may fire before Quartz counts it as misfired
     */
    public static Scheduler create(String purpose, Duration misfireThreshold) throws SchedulerException {
        Properties p = new Properties();
        p.setProperty("org.quartz.scheduler.instanceName", "certknock-" + purpose + "-" + INSTANCES.incrementAndGet());
        p.setProperty("org.quartz.scheduler.instanceId", "NON_CLUSTERED");
        p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
        p.setProperty("org.quartz.scheduler.makeSchedulerThreadDaemon", "true");
        p.setProperty("org.quartz.scheduler.jmx.export", "false");
        p.setProperty("org.quartz.threadPool.class", "org.quartz.simpl.SimpleThreadPool");
        p.setProperty("org.quartz.threadPool.threadCount", "1");
        p.setProperty("org.quartz.threadPool.threadPriority", "5");
        p.setProperty("org.quartz.threadPool.makeThreadsDaemons", "true");
        p.setProperty("org.quartz.threadPool.threadNamePrefix", purpose);
        p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
        p.setProperty("org.quartz.jobStore.misfireThreshold", Long.toString(misfireThreshold.toMillis()));
        return new StdSchedulerFactory(p).getScheduler();
    }
}
