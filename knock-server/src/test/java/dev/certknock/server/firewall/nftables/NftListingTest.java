package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parses a listing captured from nft 1.0.6 (kernel 6.18), with a hand-added prefix element to skip. */
class NftListingTest {

    @Test
    void readsOurElementsAndSkipsOthers() throws Exception {
        List<NftListing.Listed> listed = NftListing.parse(NftRendererTest.golden("listing.json"), "certknock");
        assertThat(listed).extracting(l -> l.element().text()).containsExactly("198.51.100.7 . tcp . 22",
                "198.51.100.7 . udp . 8000-8100", "2001:db8::7 . tcp . 22");
        NftListing.Listed first = listed.get(0);
        assertThat(first.element()).isEqualTo(NftRendererTest.element("198.51.100.7", "tcp/22"));
        assertThat(first.timeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(first.expires()).isEqualTo(Duration.ofSeconds(58));
        assertThat(first.comment()).isEqualTo("certknock s=1f i=0011223344556677");
        assertThat(listed.get(1).comment()).isNull();
        assertThat(listed.get(1).timeout()).isEqualTo(Duration.ofMinutes(2));
        // This listing has single ports in the interval sets, as versions before the single-port sets put them:
        // they are still read (so a revocation after an upgrade finds them), and new ones go to allow6_port.
        assertThat(listed.get(2).element().set()).isEqualTo("allow6_port");
        assertThat(listed.get(2).element().setsToSearch()).containsExactly("allow6_port", "allow6");
    }

    @Test
    void singlePortsAreReadFromTheHashSetsAndRangesOnlyFromTheIntervalSets() {
        String json = "{\"nftables\": [{\"set\": {\"family\": \"inet\", \"name\": \"allow4_port\", \"table\": \"certknock\","
                + " \"elem\": [{\"elem\": {\"val\": {\"concat\": [\"198.51.100.7\", \"tcp\", 22]}, \"timeout\": 60,"
                + " \"expires\": 59}}, {\"concat\": [\"198.51.100.8\", \"udp\", {\"range\": [8000, 8100]}]}]}}]}";
        List<NftListing.Listed> listed = NftListing.parse(json, "certknock");
        // a range cannot live in a hash set: one found there is not ours and is skipped
        assertThat(listed).extracting(l -> l.element().text()).containsExactly("198.51.100.7 . tcp . 22");
        assertThat(listed.get(0).timeout()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void anotherTableListsNothing() {
        assertThat(NftListing.parse(NftRendererTest.golden("listing.json"), "other")).isEmpty();
    }

    @Test
    void bareValuesWithoutTimeoutAreRead() {
        String json = "{\"nftables\": [{\"set\": {\"family\": \"inet\", \"name\": \"allow4\", \"table\": \"certknock\","
                + " \"elem\": [{\"concat\": [\"192.0.2.1\", 6, {\"range\": [1, 65535]}]},"
                + " {\"concat\": [\"192.0.2.1\", \"sctp\", 5]}, {\"concat\": [\"2001:db8::1\", \"tcp\", 5]}]}}]}";
        List<NftListing.Listed> listed = NftListing.parse(json, "certknock");
        // sctp is not ours; an IPv6 address in allow4 is not either.
        assertThat(listed).extracting(l -> l.element().text()).containsExactly("192.0.2.1 . tcp . 1-65535");
        assertThat(listed.get(0).timeout()).isZero();
    }

    @Test
    void refusesWhatIsNotNftJson() {
        assertThatThrownBy(() -> NftListing.parse("Error: No such file or directory", "certknock"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NftListing.parse("{}", "certknock")).isInstanceOf(IllegalArgumentException.class);
    }
}
