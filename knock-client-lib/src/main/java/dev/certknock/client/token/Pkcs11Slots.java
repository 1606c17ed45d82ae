package dev.certknock.client.token;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds a token's slot by its label: the one thing SunPKCS11 cannot do (its configuration names a slot by number
 * only). Calls the module's own C_GetFunctionList, C_Initialize, C_GetSlotList, C_GetTokenInfo and C_Finalize
 * through JNA, as PKCS#11 v2.40 section 5 defines them, and leaves the module as it found it: it finalizes only
 * when it initialized (a module a SunPKCS11 provider of this process already uses stays initialized). Unix layout
 * only (CK_ULONG is a C long, structures naturally aligned).
 */
final class Pkcs11Slots {

    /** A slot with a token, and the token's label (blank padding removed). */
    record Slot(long id, String label) {
    }

    private static final int CKR_OK = 0;
    private static final int CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;
    // Function pointers after CK_VERSION (2 bytes, padded to a pointer) in CK_FUNCTION_LIST.
    private static final int C_INITIALIZE = 0;
    private static final int C_FINALIZE = 1;
    private static final int C_GET_SLOT_LIST = 4;
    private static final int C_GET_TOKEN_INFO = 6;
    private static final int LABEL_BYTES = 32;
    private static final int FLAGS_OFFSET = 96;
    private static final long CKF_TOKEN_INITIALIZED = 0x400;
    private static final int MAX_SLOTS = 256;

    private Pkcs11Slots() {
    }

    /**
     * The slots that hold an initialized token (a blank one has no label to find it by), with their labels.
     *
     * @throws TokenAccessException when the module cannot be loaded or fails a call
     */
    static List<Slot> list(String module) throws TokenAccessException {
        NativeLibrary library;
        try {
            library = NativeLibrary.getInstance(module);
        } catch (UnsatisfiedLinkError e) {
            throw new TokenAccessException("cannot load the PKCS#11 module " + module + ": " + e.getMessage());
        }
        PointerByReference listRef = new PointerByReference();
        int rv;
        try {
            rv = library.getFunction("C_GetFunctionList").invokeInt(new Object[] {listRef});
        } catch (UnsatisfiedLinkError e) {
            throw new TokenAccessException(module + " is not a PKCS#11 module (it has no C_GetFunctionList)");
        }
        check(rv, "C_GetFunctionList", module);
        Pointer functions = listRef.getValue();
        rv = function(functions, C_INITIALIZE).invokeInt(new Object[] {null});
        boolean initialized = rv == CKR_OK;
        if (!initialized && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            check(rv, "C_Initialize", module);
        }
        try {
            Memory count = new Memory(Native.LONG_SIZE);
            count.setNativeLong(0, new com.sun.jna.NativeLong(MAX_SLOTS));
            Memory ids = new Memory((long) Native.LONG_SIZE * MAX_SLOTS);
            check(function(functions, C_GET_SLOT_LIST).invokeInt(new Object[] {(byte) 1, ids, count}),
                    "C_GetSlotList", module);
            int n = (int) Math.min(count.getNativeLong(0).longValue(), MAX_SLOTS);
            List<Slot> slots = new ArrayList<>();
            Memory info = new Memory(1024); // CK_TOKEN_INFO is about 200 bytes; the label comes first
            for (int i = 0; i < n; i++) {
                long id = ids.getNativeLong((long) i * Native.LONG_SIZE).longValue();
                info.clear();
                rv = function(functions, C_GET_TOKEN_INFO).invokeInt(new Object[] {new com.sun.jna.NativeLong(id), info});
                // CK_TOKEN_INFO: label[32], manufacturerID[32], model[16], serialNumber[16], then CK_FLAGS flags.
                boolean initializedToken = rv == CKR_OK
                        && (info.getNativeLong(FLAGS_OFFSET).longValue() & CKF_TOKEN_INITIALIZED) != 0;
                if (initializedToken) {
                    slots.add(new Slot(id, label(info.getByteArray(0, LABEL_BYTES))));
                }
            }
            return slots;
        } finally {
            if (initialized) {
                function(functions, C_FINALIZE).invokeInt(new Object[] {null});
            }
        }
    }

    private static Function function(Pointer functions, int index) {
        long offset = Native.POINTER_SIZE + (long) index * Native.POINTER_SIZE;
        return Function.getFunction(functions.getPointer(offset));
    }

    static String label(byte[] padded) {
        int end = padded.length;
        while (end > 0 && (padded[end - 1] == ' ' || padded[end - 1] == 0)) {
            end--;
        }
        return new String(padded, 0, end, StandardCharsets.UTF_8);
    }

    private static void check(int rv, String call, String module) throws TokenAccessException {
        if (rv != CKR_OK) {
            throw new TokenAccessException(call + " of the PKCS#11 module " + module + " failed: CKR 0x"
                    + Integer.toHexString(rv));
        }
    }

    /** A module that cannot be used; the message says which and why. */
    static final class TokenAccessException extends Exception {
        private static final long serialVersionUID = 1L;

        TokenAccessException(String message) {
            super(message);
        }
    }
}
