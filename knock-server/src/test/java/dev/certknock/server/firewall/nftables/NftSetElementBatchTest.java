package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.certknock.protocol.grant.PortGrant;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The netlink encoding of set-element changes against the bytes nft 1.0.6 sends for the same {@code add element} and
 * {@code delete element} lines, captured with {@code strace -e trace=sendmsg -e write=3 nft '...'} in a namespace
 * holding the server's table, with two differences made by hand: every change message has {@code NLM_F_ACK} (flags
 * {@code 0x0405} and {@code 0x0005} instead of {@code 0x0401} and {@code 0x0001}), and nft's set-id attribute
 * ({@code 08 00 04 00 ...}, from its cache) is left out, the message length 8 bytes shorter.
 */
class NftSetElementBatchTest {

    private static final String BEGIN = "140000001000010000000000000000000000000a";

    @Test
    void aSinglePortWithTimingAndCommentIsWhatNftSends() throws Exception {
        // add element inet certknock allow4_port { 198.18.0.1 . tcp . 8085 timeout 60s expires 59500ms comment "ck1 ab" }
        assertEncodes(List.of(new NftSetElementBatch.Change(true, "allow4_port", List.of(item("198.18.0.1", "tcp/8085",
                Duration.ofSeconds(60), Duration.ofMillis(59500), "ck1 ab")))),
                BEGIN + "780000000c0a05040100000000000000010000000e000100636572746b6e6f636b00000010000200616c6c6f77345f"
                        + "706f72740044000380400001800c000400000000000000ea600c000500000000000000e86c1400018010000100c612"
                        + "0001060000001f9500000d0006000007636b3120616200000000"
                        + "140000001100010002000000000000000000000a");
    }

    @Test
    void aRangeDeletedWhetherOrNotPresentIsWhatNftSends() throws Exception {
        // add element inet certknock allow4 { 198.18.0.1 . tcp . 8080-8099 timeout 1s };
        // delete element inet certknock allow4 { 198.18.0.1 . tcp . 8080-8099 }
        assertEncodes(List.of(
                new NftSetElementBatch.Change(true, "allow4",
                        List.of(item("198.18.0.1", "tcp/8080-8099", Duration.ofSeconds(1), null, null))),
                new NftSetElementBatch.Change(false, "allow4",
                        List.of(item("198.18.0.1", "tcp/8080-8099", null, null, null)))),
                BEGIN + "6c0000000c0a05040100000000000000010000000e000100636572746b6e6f636b0000000b000200616c6c6f773400"
                        + "003c000380380001800c00040000000000000003e81400018010000100c6120001060000001f90000014000a801000"
                        + "0100c6120001060000001fa30000"
                        + "600000000e0a05000200000000000000010000000e000100636572746b6e6f636b0000000b000200616c6c6f773400"
                        + "00300003802c0001801400018010000100c6120001060000001f90000014000a8010000100c6120001060000001fa3"
                        + "0000"
                        + "140000001100010003000000000000000000000a");
    }

    @Test
    void ipv6ElementsOfOneSetShareAMessageNumberedAsNftNumbersThem() throws Exception {
        // add element inet certknock allow6_port { 2001:db8::1 . udp . 53 timeout 2s,
        //     2001:db8::2 . tcp . 443 timeout 2s expires 1500ms }
        assertEncodes(List.of(new NftSetElementBatch.Change(true, "allow6_port", List.of(
                item("2001:db8::1", "udp/53", Duration.ofSeconds(2), null, null),
                item("2001:db8::2", "tcp/443", Duration.ofSeconds(2), Duration.ofMillis(1500), null)))),
                BEGIN + "a40000000c0a05040100000000000000010000000e000100636572746b6e6f636b00000010000200616c6c6f77365f"
                        + "706f72740070000380300001800c00040000000000000007d0200001801c00010020010db8000000000000000000"
                        + "00000111000000003500003c0002800c00040000000000000007d00c00050000000000000005dc200001801c0001"
                        + "0020010db80000000000000000000000020600000001bb0000"
                        + "140000001100010002000000000000000000000a");
    }

    @Test
    void sequenceNumbersRunFromTheFirstThroughTheBatchEnd() throws Exception {
        List<NftSetElementBatch.Change> changes = List.of(new NftSetElementBatch.Change(true, "allow4_port",
                List.of(item("192.0.2.1", "udp/53", Duration.ofSeconds(2), null, null))));
        byte[] b = NftSetElementBatch.encode("certknock", changes, 1000);
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
        int change = buf.getInt(20);
        assertThat(buf.getInt(8)).isEqualTo(1000);
        assertThat(buf.getInt(20 + 8)).isEqualTo(1001);
        assertThat(buf.getInt(20 + change + 8)).isEqualTo(1002);
        assertThat(NftSetElementBatch.messages(changes)).isEqualTo(3);
    }

    @Test
    void aDryRunIsTheSameBatchWithoutItsEnd_asNftDashCSendsIt() throws Exception {
        List<NftSetElementBatch.Change> changes = List.of(new NftSetElementBatch.Change(true, "allow4_port",
                List.of(item("192.0.2.1", "udp/53", Duration.ofSeconds(2), null, "ck1 aaaa"))),
                new NftSetElementBatch.Change(false, "allow6", List.of(item("2001:db8::1", "tcp/1-9", null, null, null))));
        byte[] commit = NftSetElementBatch.encode("certknock", changes, 7);
        byte[] dryRun = NftSetElementBatch.encode("certknock", changes, 7, false);
        assertThat(dryRun.length).isEqualTo(commit.length - 20);
        assertThat(java.util.Arrays.copyOf(commit, dryRun.length)).isEqualTo(dryRun);
        // what the commit has and the dry run has not: the batch end (type 0x11), with the last sequence number
        java.nio.ByteBuffer end = java.nio.ByteBuffer.wrap(commit, dryRun.length, 20).order(ByteOrder.nativeOrder());
        assertThat(end.getShort(dryRun.length + 4)).isEqualTo(NftSetElementBatch.NFNL_MSG_BATCH_END);
        assertThat(end.getInt(dryRun.length + 8)).isEqualTo(7 + 3);
    }

    @Test
    void aMessageHoldsOneToTwoHundredElements() throws Exception {
        NftSetElementBatch.Item one = item("192.0.2.1", "udp/53", Duration.ofSeconds(2), null, null);
        assertThatThrownBy(() -> new NftSetElementBatch.Change(true, "allow4_port", List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new NftSetElementBatch.Change(true, "allow4_port", Collections.nCopies(201, one)))
                .isInstanceOf(IllegalArgumentException.class);
        // 200 IPv6 ranges with the longest comment stay within a netlink attribute's 65,535 bytes
        NftSetElementBatch.Item big = item("2001:db8::1", "tcp/1-65535", Duration.ofDays(1), Duration.ofDays(1),
                "x".repeat(120));
        byte[] b = NftSetElementBatch.encode("certknock", List.of(new NftSetElementBatch.Change(true, "allow6",
                Collections.nCopies(200, big))), 1);
        assertThat(b.length - 40).isLessThan(65_535);
    }

    private static void assertEncodes(List<NftSetElementBatch.Change> changes, String hex) {
        // the captures are from a little-endian machine (x86-64): netlink headers are in host order
        org.junit.jupiter.api.Assumptions.assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
        assertThat(HexFormat.of().formatHex(NftSetElementBatch.encode("certknock", changes, 0))).isEqualTo(hex);
    }

    private static NftSetElementBatch.Item item(String address, String grant, Duration timeout, Duration expires,
            String comment) throws Exception {
        return new NftSetElementBatch.Item(new NftElement(InetAddress.getByName(address), PortGrant.parse(grant)),
                timeout, expires, comment);
    }
}
