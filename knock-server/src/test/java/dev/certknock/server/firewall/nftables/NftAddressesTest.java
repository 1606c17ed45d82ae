package dev.certknock.server.firewall.nftables;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class NftAddressesTest {

    @ParameterizedTest
    @CsvSource({
        "198.51.100.7, 198.51.100.7",
        "::1, ::1",
        "::, ::",
        "2001:DB8:0:0:0:0:0:7, 2001:db8::7",
        "2001:db8:0:1:0:0:0:1, 2001:db8:0:1::1",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
        "2001:db8:0:0:1:0:0:0, 2001:db8:0:0:1::",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "fe80:0:0:0:0:0:0:0, fe80::",
        "0:0:0:0:0:0:0:1, ::1",
    })
    void parsesWhatNftPrints(String in, String out) throws Exception {
        assertThat(NftAddresses.parse(out)).isEqualTo(InetAddress.getByName(in));
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "abc", "example.org", "", "1.2.3", "2001:db8::7%eth0"})
    void parsesLiteralsOnlyNeverNames(String text) {
        assertThatThrownBy(() -> NftAddresses.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
