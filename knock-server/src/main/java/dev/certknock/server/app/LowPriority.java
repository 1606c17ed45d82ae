package dev.certknock.server.app;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Lowers the CPU priority of the calling thread alone (Linux: {@code setpriority(PRIO_PROCESS, tid, nice)} on the
 * thread's own id, through libc with JNA). Raising one's own nice value needs no privilege. Used for work that must
 * yield to knocks: the background rehearsal (docs/DESIGN.md D16). Anywhere it cannot be done (not Linux, no libc
 * through JNA), the thread keeps its priority and the caller is told so.
 */
final class LowPriority {

    /** The lowest priority Linux gives a normal thread. */
    static final int LOWEST = 19;
    private static final int PRIO_PROCESS = 0;

    interface LibC extends Library {
        int setpriority(int which, int who, int prio);
    }

    private LowPriority() {
    }

    /** Sets the calling thread's nice value; true when done. */
    static boolean currentThread(int nice) {
        OptionalInt tid = currentThreadId();
        if (tid.isEmpty()) {
            return false;
        }
        try {
            return Holder.LIBC.setpriority(PRIO_PROCESS, tid.getAsInt(), nice) == 0;
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }

    /** The calling thread's nice value, as the kernel reports it; empty where it cannot be read. */
    static OptionalInt currentNice() {
        OptionalInt tid = currentThreadId();
        if (tid.isEmpty()) {
            return OptionalInt.empty();
        }
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid.getAsInt() + "/stat"));
            // Field 19 is the nice value; fields are counted after the command name, which may hold spaces.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return OptionalInt.of(Integer.parseInt(fields[19 - 3]));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    /** The kernel's id of the calling thread ({@code /proc/thread-self} names it); empty outside Linux. */
    private static OptionalInt currentThreadId() {
        try {
            Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
            return OptionalInt.of(Integer.parseInt(self.getFileName().toString()));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty();
        }
    }

    /** Loaded on first use only. */
    private static final class Holder {
        static final LibC LIBC = Native.load("c", LibC.class);
    }
}
