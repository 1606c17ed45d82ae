package dev.certknock.server.capture.pcap;

import dev.certknock.server.knock.ReceivedDatagram;
import java.lang.reflect.Method;

/**
 * The bytes of a {@link ReceivedDatagram}, for assertions: the class only exposes them to its own package
 * (the pipeline), so tests here read them reflectively.
 */
final class Payloads {

    private static final Method BYTES;

    static {
        try {
            BYTES = ReceivedDatagram.class.getDeclaredMethod("bytesUnsafe");
            BYTES.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Payloads() {
    }

    static byte[] of(ReceivedDatagram d) {
        try {
            return ((byte[]) BYTES.invoke(d)).clone();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
