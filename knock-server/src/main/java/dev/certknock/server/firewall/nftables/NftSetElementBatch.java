package dev.certknock.server.firewall.nftables;

import java.net.Inet4Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Encodes changes of set elements as one nfnetlink batch, byte for byte what {@code nft} 1.0.6 sends for the same
 * {@code add element} and {@code delete element} lines (the golden bytes in {@code NftSetElementBatchTest} are
 * {@code strace} captures of it): a batch-begin message, one {@code NFT_MSG_NEWSETELEM} or {@code NFT_MSG_DELSETELEM}
 * per set and verb, a batch-end message; the kernel commits the batch as one transaction, all of it or none of it.
 * Values only, no I/O; {@link NftNetlink} sends it.
 *
 * <p>Unlike nft, every change message asks for an acknowledgement ({@code NLM_F_ACK}), so the sender knows the
 * outcome of each without a timed wait; and the set is named only (nft adds the set's id from its cache, which the
 * kernel reads only when no set has the name).
 */
final class NftSetElementBatch {

    /**
     * One message: add (or refresh) or delete these elements of one set. At most {@link #MAX_ITEMS} elements, so that
     * the message's element list stays within a netlink attribute's 64 KiB.
     */
    record Change(boolean add, String set, List<Item> items) {
        Change {
            Objects.requireNonNull(set, "set");
            items = List.copyOf(items);
            if (items.isEmpty() || items.size() > MAX_ITEMS) {
                throw new IllegalArgumentException(items.size() + " elements in one message (1 to " + MAX_ITEMS + ")");
            }
        }
    }

    /** Elements per message at most: each takes at most 230 bytes (a 120-character comment, an IPv6 range). */
    static final int MAX_ITEMS = 200;

    /**
     * One element; for an add, its {@code timeout}, and {@code expires} and {@code comment} when not null; for a
     * delete, the key only (every timing null).
     */
    record Item(NftElement element, Duration timeout, Duration expires, String comment) {
        Item {
            Objects.requireNonNull(element, "element");
        }
    }

    static final int NLMSG_HDRLEN = 16;
    static final short NLM_F_REQUEST = 0x1;
    static final short NLM_F_ACK = 0x4;
    static final short NLM_F_CREATE = 0x400;
    static final short NFNL_MSG_BATCH_BEGIN = 0x10;
    static final short NFNL_MSG_BATCH_END = 0x11;
    static final int NFNL_SUBSYS_NFTABLES = 10;
    static final int NFT_MSG_NEWSETELEM = 12;
    static final int NFT_MSG_DELSETELEM = 14;
    static final byte NFPROTO_INET = 1;
    private static final short NLA_F_NESTED = (short) 0x8000;
    private static final short LIST_TABLE = 1;
    private static final short LIST_SET = 2;
    private static final short LIST_ELEMENTS = 3;
    private static final short ELEM_KEY = 1;
    private static final short ELEM_TIMEOUT = 4;
    private static final short ELEM_EXPIRATION = 5;
    private static final short ELEM_USERDATA = 6;
    private static final short ELEM_KEY_END = 10;
    private static final short DATA_VALUE = 1;
    /** {@code NFTNL_UDATA_SET_ELEM_COMMENT}: the comment nft shows, a NUL-terminated string in a type-length-value. */
    private static final byte UDATA_COMMENT = 0;

    private NftSetElementBatch() {
    }

    /** How many messages {@link #encode} writes for these changes: the batch's begin and end and one per change. */
    static int messages(List<Change> changes) {
        return changes.size() + 2;
    }

    /**
     * The batch: sequence numbers {@code firstSeq} (batch begin) to {@code firstSeq + changes.size() + 1} (batch end);
     * change {@code i} has {@code firstSeq + 1 + i}.
     */
    static byte[] encode(String table, List<Change> changes, int firstSeq) {
        return encode(table, changes, firstSeq, true);
    }

    /**
     * The batch, or with {@code commit} false its dry run: the same messages without the batch end, which is what
     * {@code nft -c} sends; the kernel then checks every change, answers each, and aborts the transaction
     * ({@code NFNL_ABORT_VALIDATE}), so nothing is written.
     */
    static byte[] encode(String table, List<Change> changes, int firstSeq, boolean commit) {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());
        b = batchControl(b, NFNL_MSG_BATCH_BEGIN, firstSeq);
        int seq = firstSeq + 1;
        for (Change c : changes) {
            b = ensure(b, 256 + c.items().size() * 256 + c.set().length() + table.length());
            int start = b.position();
            b.putInt(0);
            b.putShort((short) ((NFNL_SUBSYS_NFTABLES << 8) | (c.add() ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM)));
            b.putShort((short) (c.add() ? NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK : NLM_F_REQUEST | NLM_F_ACK));
            b.putInt(seq++);
            b.putInt(0);
            b.put(NFPROTO_INET).put((byte) 0).putShort((short) 0); // nfgenmsg: family, version, res_id
            string(b, LIST_TABLE, table);
            string(b, LIST_SET, c.set());
            int elements = open(b, LIST_ELEMENTS);
            short n = 0;
            for (Item i : c.items()) {
                int elem = open(b, ++n); // numbered from 1, as libnftnl does (the kernel reads the list in order)
                if (i.timeout() != null) {
                    u64(b, ELEM_TIMEOUT, i.timeout().toMillis());
                }
                if (i.expires() != null) {
                    u64(b, ELEM_EXPIRATION, i.expires().toMillis());
                }
                key(b, ELEM_KEY, i.element(), i.element().ports().firstPort());
                if (!i.element().ports().isSinglePort()) {
                    key(b, ELEM_KEY_END, i.element(), i.element().ports().lastPort());
                }
                if (i.comment() != null) {
                    byte[] text = i.comment().getBytes(StandardCharsets.US_ASCII);
                    byte[] udata = new byte[text.length + 3];
                    udata[0] = UDATA_COMMENT;
                    udata[1] = (byte) (text.length + 1);
                    System.arraycopy(text, 0, udata, 2, text.length);
                    attr(b, ELEM_USERDATA, udata);
                }
                close(b, elem);
            }
            close(b, elements);
            b.putInt(start, b.position() - start);
        }
        if (commit) {
            b = batchControl(b, NFNL_MSG_BATCH_END, seq);
        }
        byte[] out = new byte[b.position()];
        b.flip();
        b.get(out);
        return out;
    }

    private static ByteBuffer batchControl(ByteBuffer b, short type, int seq) {
        b = ensure(b, 20);
        b.putInt(20).putShort(type).putShort(NLM_F_REQUEST).putInt(seq).putInt(0);
        b.put((byte) 0).put((byte) 0); // AF_UNSPEC, version 0
        b.order(ByteOrder.BIG_ENDIAN).putShort((short) NFNL_SUBSYS_NFTABLES).order(ByteOrder.nativeOrder());
        return b;
    }

    private static ByteBuffer ensure(ByteBuffer b, int more) {
        if (b.remaining() >= more) {
            return b;
        }
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + more)).order(b.order());
        b.flip();
        bigger.put(b);
        return bigger;
    }

    /** The key: address, protocol and port, each padded to 4 bytes (a concatenation's fields sit in 32-bit registers). */
    private static void key(ByteBuffer b, short type, NftElement e, int port) {
        byte[] address = e.address().getAddress();
        byte[] key = new byte[address.length + 8];
        System.arraycopy(address, 0, key, 0, address.length);
        key[address.length] = (byte) e.ports().protocol().number();
        key[address.length + 4] = (byte) (port >>> 8);
        key[address.length + 5] = (byte) port;
        int outer = open(b, type);
        attr(b, DATA_VALUE, key);
        close(b, outer);
        assert e.address() instanceof Inet4Address ? key.length == 12 : key.length == 24;
    }

    private static void string(ByteBuffer b, short type, String s) {
        byte[] text = s.getBytes(StandardCharsets.US_ASCII);
        byte[] z = new byte[text.length + 1];
        System.arraycopy(text, 0, z, 0, text.length);
        attr(b, type, z);
    }

    private static void u64(ByteBuffer b, short type, long value) {
        b.putShort((short) 12).putShort(type);
        b.order(ByteOrder.BIG_ENDIAN).putLong(value).order(ByteOrder.nativeOrder());
    }

    private static void attr(ByteBuffer b, short type, byte[] value) {
        b.putShort((short) (4 + value.length)).putShort(type).put(value);
        pad(b);
    }

    private static int open(ByteBuffer b, short type) {
        int at = b.position();
        b.putShort((short) 0).putShort((short) (type | NLA_F_NESTED));
        return at;
    }

    private static void close(ByteBuffer b, int at) {
        b.putShort(at, (short) (b.position() - at));
    }

    private static void pad(ByteBuffer b) {
        while (b.position() % 4 != 0) {
            b.put((byte) 0);
        }
    }
}
